import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KapaServiceStack } from "../infra/stack.js";

/**
 * The synthesized `KapaServiceStack`: the CloudFormation template `cdk synth` produces (the same
 * stack and cdk.json context, bundling skipped: the template is the same), and the code of each
 * Lambda function (its entry under functions/ and the files shipped next to its bundle). The
 * local runtime builds its whole world from it (local/topology.ts), so that what runs under
 * `npm start` is wired as CloudFormation wires it in AWS.
 */

/** The repository root (not infra/constructs/lambda.ts's: importing it loads aws-cdk-lib, which a cache hit avoids). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the tests and benchmarks cache their synthesized templates (npm start: DATA_DIR/cache). */
export const SHARED_CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "kapa");

export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: CfnValue }>;
}

/** A file shipped next to a function's bundle (infra/constructs/lambda.ts BundledFile). */
export interface FunctionFile {
  from: string;
  to: string;
}

export interface SynthesizedStack {
  template: CfnTemplate;
  /** Logical id of each Lambda function built from functions/ -> its code. */
  functions: Record<string, { entry: string; bundledFiles: readonly FunctionFile[] }>;
}

/**
 * Synthesizes the stack in this process. `context` overrides cdk.json's (tests: small pages, a
 * removed binding). The built-in CloudFormation validation (a WebAssembly rules engine, most of
 * a first synthesis's time) is skipped: `npm run synth` and the infra tests run it, and the
 * local runtime only reads the template.
 */
export async function synthesizeStack(
  context: Record<string, unknown> = {},
  /** Changes the stack before it is synthesized (tests: remove one binding). */
  tweak?: (stack: KapaServiceStack) => void,
): Promise<SynthesizedStack> {
  const [{ App }, { KapaServiceStack }, { functionCode }] = await Promise.all([
    import("aws-cdk-lib"),
    import("../infra/stack.js"),
    import("../infra/constructs/lambda.js"),
  ]);
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")) as { context: Record<string, unknown> };
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [], ...context },
  });
  const stack = new KapaServiceStack(app, "KapaService");
  tweak?.(stack);
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  return { template, functions: Object.fromEntries(functionCode(stack)) };
}

/** The .ts files under `dir`, in a stable order (what a cache key hashes). */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return name.endsWith(".ts") ? [path] : [];
    });
}

/**
 * What the template depends on: the infra code and the shared code it imports (routes, settings
 * of the reports and the backfill), the function entry points' names, cdk.json, the aws-cdk-lib
 * version and the context overrides.
 */
function templateHash(context: Record<string, unknown>): string {
  const hash = createHash("sha256");
  const files = [
    ...sourceFiles(join(REPO_ROOT, "infra")),
    ...sourceFiles(join(REPO_ROOT, "shared")),
    join(REPO_ROOT, "cdk.json"),
    join(REPO_ROOT, "node_modules", "aws-cdk-lib", "package.json"),
  ];
  for (const file of files) hash.update(file).update(readFileSync(file));
  hash.update(readdirSync(join(REPO_ROOT, "functions")).sort().join(","));
  hash.update(JSON.stringify(context));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Synthesizes in a child process and returns what it prints: aws-cdk-lib (a few hundred MB and
 * seconds to load) then never loads into the long-running process.
 */
function synthesizeInChild(context: Record<string, unknown>): Promise<SynthesizedStack> {
  const script = [
    `import { synthesizeStack } from ${JSON.stringify(new URL(import.meta.url).href)};`,
    `process.stdout.write(JSON.stringify(await synthesizeStack(${JSON.stringify(context)})));`,
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_NO_WARNINGS: "1" } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`Could not synthesize the stack: ${stderr || error.message}`));
        // The stack is the last line (JSON.stringify writes no newline): whatever else the app
        // prints comes before it.
        else resolve(JSON.parse(stdout.trimEnd().split("\n").at(-1) ?? "") as SynthesizedStack);
      },
    );
  });
}

export interface LoadStackOptions {
  /** CDK context overrides. */
  context?: Record<string, unknown>;
  /** Where the synthesized stack is cached (DATA_DIR/cache); nowhere when unset. */
  cacheDir?: string;
  /** Synthesize in this process instead of a child (tests that already loaded aws-cdk-lib). */
  synthesizeHere?: boolean;
}

/**
 * The synthesized stack: from `cacheDir` when the infra and shared sources, cdk.json and the
 * overrides are unchanged since it was last synthesized there, else synthesized now (about 5 s,
 * in a child process unless `synthesizeHere`) and cached.
 */
export async function loadStack(options: LoadStackOptions = {}): Promise<SynthesizedStack & { cached: boolean }> {
  const context = options.context ?? {};
  const file = options.cacheDir ? join(options.cacheDir, `stack-${templateHash(context)}.json`) : null;
  if (file) {
    try {
      return { ...(JSON.parse(readFileSync(file, "utf8")) as SynthesizedStack), cached: true };
    } catch {
      // not cached yet
    }
  }
  const stack = options.synthesizeHere ? await synthesizeStack(context) : await synthesizeInChild(context);
  if (file && options.cacheDir) {
    mkdirSync(options.cacheDir, { recursive: true });
    // Written aside and renamed: a process reading the cache meanwhile sees all of it or nothing.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(stack));
    renameSync(partial, file);
  }
  return { ...stack, cached: false };
}
