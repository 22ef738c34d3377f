// Builds the CLI to JavaScript with esbuild (`npm run build:cli`, run by `prepare` on npm install
// and by cli/bin.mjs when a source is newer than the build), so `npx kapa` starts without tsx.
// Plain JavaScript: bin.mjs imports it before anything can compile TypeScript.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "build", "cli");
const CURRENT = join(OUT, "current.json");
/** The sources a build is made of: newer than the build means stale. */
const SOURCES = ["cli", "shared", "local", "functions", "infra", "package.json"];

function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** The current build's entry file URL, or null when there is none or a source changed since. */
export function currentBuild() {
  let current;
  try {
    current = JSON.parse(readFileSync(CURRENT, "utf8"));
  } catch {
    return null;
  }
  const sourcesAt = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
  if (sourcesAt > current.sourcesAt) return null;
  return pathToFileURL(join(OUT, current.dir, "main.mjs")).href;
}

/**
 * `import.meta.url` keeps meaning the source file (migrations, the Lambda worker and the state
 * machine's synthesis find their files relative to it), not the chunk it ends up in.
 */
const sourceUrls = {
  name: "source-import-meta-url",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes("node_modules")) return undefined;
      const values = { url: pathToFileURL(args.path).href, dirname: dirname(args.path) };
      const contents = readFileSync(args.path, "utf8")
        .split("\n")
        .map((line) =>
          line.replace(/import\.meta\.(url|dirname)\b/g, (match, name, offset) => {
            // Not inside a '...' or "..." string (a generated banner may spell it).
            const quotes = (line.slice(0, offset).match(/["']/g) ?? []).length;
            return quotes % 2 === 1 ? match : JSON.stringify(values[name]);
          }),
        )
        .join("\n");
      return { contents, loader: "ts" };
    });
  },
};

/** Builds into a new directory, then points current.json at it (two concurrent builds cannot mix). */
export async function buildCli() {
  const { build } = await import("esbuild");
  const sourcesAt = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
  const dir = `${Date.now().toString(36)}-${process.pid}`;
  await build({
    entryPoints: { main: join(ROOT, "cli", "main.ts") },
    outdir: join(OUT, dir),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    // One chunk per dynamic import: a command's code loads when it runs, not at start.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    plugins: [sourceUrls],
    logLevel: "warning",
  });
  mkdirSync(OUT, { recursive: true });
  const temporary = `${CURRENT}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ dir, sourcesAt }));
  renameSync(temporary, CURRENT);
  // Older builds, but not the newest few: another kapa may still be loading one.
  const builds = readdirSync(OUT).filter((name) => name !== dir && !name.startsWith("current.json"));
  for (const old of builds.sort().slice(0, -2)) rmSync(join(OUT, old), { recursive: true, force: true });
  return pathToFileURL(join(OUT, dir, "main.mjs")).href;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli();
}
