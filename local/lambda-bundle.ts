import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { ESBUILD_MAIN_FIELDS, ESBUILD_TARGET, ESM_REQUIRE_BANNER } from "../infra/bundling.js";
import { REPO_ROOT, sourceFiles } from "./template.js";

/**
 * The functions' code as the local Lambda environments load it: every `functions/<entry>.ts`
 * bundled to JavaScript by esbuild with the Lambda packages' settings (infra/bundling.ts: ESM,
 * the runtime's target, minified, source maps), and the environment's own runtime
 * (local/lambda-worker.ts) beside them. One build of all of them, with the modules they share in
 * common chunks, cached in `cacheDir` under a hash of its sources: a worker thread then loads one
 * function's few files of plain JavaScript instead of compiling hundreds of TypeScript modules.
 */
export interface FunctionBundles {
  /** The directory of the build. */
  dir: string;
  /** The module a local Lambda environment runs (local/lambda-worker.ts). */
  worker: URL;
  /** The module of functions/<entry>.ts (a file URL). */
  module(entry: string): string;
}

/** The sources outside functions/ and shared/ that the build reads: the environment's runtime. */
const WORKER_SOURCES = ["local/lambda-worker.ts", "local/lambda-context.ts", "local/lambda-invocation.ts"];
const FUNCTIONS_DIR = join(REPO_ROOT, "functions");
/** A build older than this, of sources since changed, is removed by the next build. */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

const buildOptions = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: ESBUILD_TARGET,
  mainFields: ESBUILD_MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  // As the Lambda packages: a name that minifying breaks (an error's class name) breaks here too.
  minify: true,
  sourcemap: "linked",
  sourcesContent: false,
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
} as const;

function entryNames(): string[] {
  return readdirSync(FUNCTIONS_DIR)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => name.slice(0, -3))
    .sort();
}

/** What the build depends on: its sources, the locked dependencies, esbuild's version and options. */
function bundleHash(files: readonly string[], esbuildVersion: string): string {
  const hash = createHash("sha256");
  for (const file of [...files, join(REPO_ROOT, "package-lock.json")]) {
    hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  }
  hash.update(esbuildVersion).update(JSON.stringify(buildOptions));
  return hash.digest("hex").slice(0, 16);
}

function bundlesIn(dir: string): FunctionBundles {
  return {
    dir,
    worker: pathToFileURL(join(dir, "lambda-worker.mjs")),
    module: (entry) => pathToFileURL(join(dir, "functions", `${entry}.mjs`)).href,
  };
}

/** Sources the build read that the hash does not cover: a change to them would go unnoticed. */
function unhashedInputs(inputs: readonly string[], hashed: ReadonlySet<string>): string[] {
  return inputs.filter((input) => !input.split("/").includes("node_modules") && !hashed.has(join(REPO_ROOT, input)));
}

function removeStaleBuilds(cacheDir: string, current: string): void {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (!name.startsWith("functions-") || path === current) continue;
    if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The functions' bundles: from `cacheDir` when their sources are unchanged since they were built
 * there, else built now (a few seconds, in esbuild's own process) and cached.
 */
export async function bundleFunctions(options: { cacheDir: string }): Promise<FunctionBundles> {
  const esbuild = await import("esbuild");
  const entries = entryNames();
  const files = [
    ...sourceFiles(FUNCTIONS_DIR),
    ...sourceFiles(join(REPO_ROOT, "shared")),
    ...WORKER_SOURCES.map((file) => join(REPO_ROOT, file)),
  ];
  const dir = join(options.cacheDir, `functions-${bundleHash(files, esbuild.version)}`);
  if (existsSync(dir)) return bundlesIn(dir);
  mkdirSync(options.cacheDir, { recursive: true });
  // Built aside and renamed: a process reading the cache meanwhile sees all of it or nothing.
  const partial = `${dir}.${process.pid}.tmp`;
  const result = await esbuild.build({
    ...buildOptions,
    absWorkingDir: REPO_ROOT,
    entryPoints: {
      "lambda-worker": join(REPO_ROOT, "local", "lambda-worker.ts"),
      ...Object.fromEntries(entries.map((entry) => [`functions/${entry}`, join(FUNCTIONS_DIR, `${entry}.ts`)])),
    },
    outdir: partial,
    metafile: true,
  });
  const unhashed = unhashedInputs(Object.keys(result.metafile.inputs), new Set(files));
  if (unhashed.length > 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `The functions' bundles read ${unhashed.join(", ")}: add them to the sources local/lambda-bundle.ts hashes`,
    );
  }
  try {
    renameSync(partial, dir);
  } catch (error) {
    // Another process built the same sources first: its build is this one.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  removeStaleBuilds(options.cacheDir, dir);
  return bundlesIn(dir);
}
