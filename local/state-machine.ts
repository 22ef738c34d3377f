import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CfnElement } from "aws-cdk-lib";

/** The repository root (not infra/constructs/lambda.ts's: importing it loads aws-cdk-lib, which a cache hit avoids). */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The backfill state machine exactly as CloudFormation creates it: the stack is synthesized in
 * this process (the same `KapaServiceStack` and cdk.json context as `cdk synth`, with bundling
 * skipped: the template is the same), and the state machine's DefinitionString is resolved from
 * CloudFormation intrinsics into plain ASL, with each Lambda's ARN as it would be in this (local)
 * account. Its Task states map to the entry points under functions/.
 */

/** The local account and region the resolved ARNs name. */
export const LOCAL_REGION = "us-east-1";
export const LOCAL_ACCOUNT = "000000000000";

/** An Amazon States Language document. */
export type Asl = { StartAt: string; States: Record<string, AslState> } & Record<string, unknown>;
export type AslState = { Type: string; Resource?: string } & Record<string, unknown>;

export interface LocalMachineDefinition {
  /** The state machine's logical id: its name here. */
  name: string;
  definition: Asl;
  /** Task state name -> the Lambda entry point it invokes, `functions/<entry>.ts`. */
  tasks: Record<string, string>;
  /** Task state name -> the timeout (s) of the function it invokes, as the template sets it. */
  functionTimeouts?: Record<string, number>;
}

type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, CfnValue> }>;
}

const lambdaArn = (logicalId: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

/** Fn::Join, Ref and Fn::GetAtt ... Arn of the functions in `functions`, and the pseudo parameters. */
function resolveIntrinsics(value: CfnValue, functions: ReadonlyMap<string, string>): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const [[fn, args] = []] = Object.entries(value);
    if (fn === "Fn::Join" && Array.isArray(args) && typeof args[0] === "string" && Array.isArray(args[1])) {
      return args[1].map((part) => resolveIntrinsics(part, functions)).join(args[0]);
    }
    if (fn === "Ref" && typeof args === "string") {
      const pseudo: Record<string, string> = {
        "AWS::Partition": "aws",
        "AWS::Region": LOCAL_REGION,
        "AWS::AccountId": LOCAL_ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
      };
      if (pseudo[args]) return pseudo[args];
      if (functions.has(args)) return args;
    }
    if (fn === "Fn::GetAtt" && Array.isArray(args) && args[1] === "Arn" && functions.has(String(args[0]))) {
      return lambdaArn(String(args[0]));
    }
  }
  throw new Error(
    `The state machine definition refers to something the local runtime cannot resolve: ${JSON.stringify(value)}`,
  );
}

function taskStates(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[] | undefined) ?? [])]
      .filter((d): d is { States: Record<string, AslState> } => Boolean(d && typeof d === "object"))
      .flatMap((d) => taskStates(d.States));
    return state.Type === "Task" ? [[name, state] as [string, AslState], ...nested] : nested;
  });
}

/**
 * The ASL of a state machine of a synthesized template, and its Task states' entry points.
 * `functions`: the logical id of each Lambda function the definition may invoke -> its entry.
 */
export function resolveStateMachine(
  template: CfnTemplate,
  logicalId: string,
  functions: ReadonlyMap<string, string>,
): LocalMachineDefinition {
  const resource = template.Resources[logicalId];
  const definitionString = resource?.Properties?.DefinitionString;
  if (resource?.Type !== "AWS::StepFunctions::StateMachine" || definitionString === undefined) {
    throw new Error(`${logicalId} is not a state machine with a DefinitionString`);
  }
  const definition = JSON.parse(resolveIntrinsics(definitionString, functions)) as Asl;
  const byArn = new Map([...functions].map(([id, entry]) => [lambdaArn(id), entry]));
  const tasks: Record<string, string> = {};
  const functionTimeouts: Record<string, number> = {};
  for (const [name, state] of taskStates(definition.States)) {
    const entry = state.Resource ? byArn.get(state.Resource) : undefined;
    if (!entry) throw new Error(`Task state ${name} invokes ${state.Resource}, which is not one of our functions`);
    tasks[name] = entry;
    const functionId = [...functions.keys()].find((id) => lambdaArn(id) === state.Resource) ?? "";
    // Lambda's default timeout is 3 s.
    functionTimeouts[name] = Number(template.Resources[functionId]?.Properties?.Timeout ?? 3);
  }
  return { name: logicalId, definition, tasks, functionTimeouts };
}

/**
 * Synthesizes the stack in this process and resolves the backfill state machine. `context`
 * overrides cdk.json's (tests use small pages). The default-rules validation (6 s, and it checks
 * nothing of the template's content) is skipped.
 */
export async function synthesizeBackfillMachine(
  context: Record<string, unknown> = {},
): Promise<LocalMachineDefinition> {
  const [{ App }, { KapaServiceStack }, { functionEntries }] = await Promise.all([
    import("aws-cdk-lib"),
    import("../infra/stack.js"),
    import("../infra/constructs/lambda.js"),
  ]);
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")) as { context: Record<string, unknown> };
  const app = new App({
    context: {
      ...cdkJson.context,
      "aws:cdk:bundling-stacks": [],
      "@aws-cdk/core:validateAgainstDefaultRules": false,
      ...context,
    },
  });
  const stack = new KapaServiceStack(app, "KapaService");
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  const logicalId = stack.getLogicalId(stack.backfill.stateMachine.node.defaultChild as CfnElement);
  return resolveStateMachine(template, logicalId, functionEntries(stack));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return name.endsWith(".ts") ? [path] : [];
    });
}

/**
 * What the synthesized definition depends on: the infra code, the backfill code it imports,
 * cdk.json, the aws-cdk-lib version and the context overrides.
 */
function definitionHash(context: Record<string, unknown>): string {
  const hash = createHash("sha256");
  const files = [
    ...sourceFiles(join(REPO_ROOT, "infra")),
    ...sourceFiles(join(REPO_ROOT, "shared", "backfill")),
    fileURLToPath(import.meta.url),
    join(REPO_ROOT, "cdk.json"),
    join(REPO_ROOT, "node_modules", "aws-cdk-lib", "package.json"),
  ];
  for (const file of files) hash.update(file).update(readFileSync(file));
  hash.update(JSON.stringify(context));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Synthesizes in a child process and returns the definition it prints: aws-cdk-lib (a few hundred
 * MB and seconds to load) then never loads into the long-running process.
 */
function synthesizeInChild(context: Record<string, unknown>): Promise<LocalMachineDefinition> {
  const script = [
    `import { synthesizeBackfillMachine } from ${JSON.stringify(new URL(import.meta.url).href)};`,
    `process.stdout.write(JSON.stringify(await synthesizeBackfillMachine(${JSON.stringify(context)})));`,
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NODE_NO_WARNINGS: "1" } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`Could not synthesize the backfill state machine: ${stderr || error.message}`));
        // The definition is the last line (JSON.stringify writes no newline): whatever else the
        // app prints comes before it.
        else resolve(JSON.parse(stdout.trimEnd().split("\n").at(-1) ?? "") as LocalMachineDefinition);
      },
    );
  });
}

/**
 * The backfill state machine for the local runtime: from `cacheDir` when the infra sources,
 * cdk.json and the overrides are unchanged since it was last synthesized there, else synthesized
 * now (a few seconds, in a child process unless `synthesizeHere`) and cached.
 */
export async function loadBackfillMachine(
  options: { context?: Record<string, unknown>; cacheDir?: string; synthesizeHere?: boolean } = {},
): Promise<LocalMachineDefinition & { cached: boolean }> {
  const context = options.context ?? {};
  const file = options.cacheDir ? join(options.cacheDir, `backfill-machine-${definitionHash(context)}.json`) : null;
  if (file) {
    try {
      return { ...(JSON.parse(readFileSync(file, "utf8")) as LocalMachineDefinition), cached: true };
    } catch {
      // not cached yet
    }
  }
  const machine = options.synthesizeHere ? await synthesizeBackfillMachine(context) : await synthesizeInChild(context);
  if (file && options.cacheDir) {
    mkdirSync(options.cacheDir, { recursive: true });
    // Written aside and renamed: a process reading the cache meanwhile sees all of it or nothing.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(machine));
    renameSync(partial, file);
  }
  return { ...machine, cached: false };
}
