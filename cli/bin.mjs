#!/usr/bin/env node
// `npx kapa ...`: runs the CLI built to JavaScript (build/cli, see cli/build.mjs). The build is
// made by `prepare` on npm install, and again here when a source is newer (a checkout, an edit).
// Without esbuild (an install without devDependencies) it falls back to tsx.
import { buildCli, currentBuild } from "./build.mjs";

// `kapa ... | head`: a closed pipe ends the output, it is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

let entry = currentBuild();
if (!entry) {
  try {
    entry = await buildCli();
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    const { register } = await import("tsx/esm/api");
    register();
    entry = new URL("./main.ts", import.meta.url).href;
  }
}
await import(entry);
