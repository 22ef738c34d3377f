import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, buildSync } from "esbuild";

/**
 * The dashboard's assets: its page, and its script and styles bundled by esbuild from
 * web/dashboard/ with uPlot from npm, so the page needs nothing but our own server. `npm start`
 * builds them in memory at first request; `cdk synth` writes them to build/dashboard/ for the
 * Lambda to ship (infra/constructs/api.ts).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, "dashboard");

export const DASHBOARD_FILES = ["index.html", "app.js", "app.css"] as const;
export type DashboardFile = (typeof DASHBOARD_FILES)[number];

const options = (outdir: string): BuildOptions => ({
  entryPoints: { app: path.join(source, "main.ts") },
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outdir,
  logLevel: "silent",
});

/** The three files as text, built in memory. */
export async function buildDashboardAssets(): Promise<Map<DashboardFile, string>> {
  const result = await build({ ...options(path.join(here, "out")), write: false });
  const assets = new Map<DashboardFile, string>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    if (name === "app.js" || name === "app.css") assets.set(name, file.text);
  }
  assets.set("index.html", readFileSync(path.join(source, "index.html"), "utf8"));
  return assets;
}

/** Writes the three files to `outDir` (for the Lambda bundle). */
export function buildDashboardSync(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  buildSync({ ...options(outDir), write: true });
  copyFileSync(path.join(source, "index.html"), path.join(outDir, "index.html"));
}
