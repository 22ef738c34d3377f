import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { report } from "./lib.js";

const TARGET_INIT_MS = 150;
/** The SDK clients an API function must not load at init (list/detail routes never use them). */
const LAZY_CLIENTS = ["@aws-sdk/client-sqs", "@aws-sdk/client-sfn", "@aws-sdk/client-secrets-manager"];

interface LambdaResource {
  Type: string;
  Metadata?: Record<string, string>;
  Properties: { Handler?: string; Environment?: { Variables?: Record<string, unknown> } };
}

interface Bundle {
  /** The construct path below the stack, e.g. Api/ChatHandler. */
  name: string;
  file: string;
  environment: Record<string, string>;
}

/** A stand-in for a value the template computes at deploy time (an ARN, a queue URL). */
function placeholder(name: string): string {
  if (name.endsWith("_QUEUE_URL")) return `https://sqs.us-east-1.amazonaws.com/123456789012/${name.toLowerCase()}`;
  if (name === "BACKFILL_STATE_MACHINE_ARN") return "arn:aws:states:us-east-1:123456789012:stateMachine:backfill";
  if (name.endsWith("_ARN")) return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name.toLowerCase()}`;
  return "placeholder";
}

/** Every KapaFunction of the synthesized template: its bundle and its environment. */
function bundles(cdkOut: string): Bundle[] {
  const template = JSON.parse(readFileSync(path.join(cdkOut, "KapaService.template.json"), "utf8")) as {
    Resources: Record<string, LambdaResource>;
  };
  return Object.values(template.Resources)
    .filter((r) => r.Type === "AWS::Lambda::Function" && r.Metadata?.["aws:cdk:path"]?.endsWith("/Function/Resource"))
    .map((r) => {
      const variables = r.Properties.Environment?.Variables ?? {};
      const environment = Object.fromEntries(
        Object.entries(variables)
          .filter(([key]) => key !== "NODE_OPTIONS")
          .map(([key, value]) => [key, typeof value === "string" ? value : placeholder(key)]),
      );
      const cdkPath = r.Metadata?.["aws:cdk:path"] as string;
      return {
        name: cdkPath.split("/").slice(1, -2).join("/"),
        file: path.resolve(cdkOut, r.Metadata?.["aws:asset:path"] as string, "index.mjs"),
        environment,
      };
    });
}

/** Imports the bundle in a fresh Node process; prints the import's ms (the module init). */
const IMPORT_SCRIPT = `
const started = performance.now();
const mod = await import(process.argv[1]);
const initMs = performance.now() - started;
if (typeof mod.handler !== "function") throw new Error("no handler export");
process.stdout.write(JSON.stringify({ initMs }));`;

/** Records which @aws-sdk/client-* packages a bundle resolves at import (a loader hook, in its own run). */
const HOOKS = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("@aws-sdk/client-")) port.postMessage(specifier);
  return next(specifier, context);
}`;
const CLIENTS_SCRIPT = `
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const loaded = new Set();
port1.on("message", (m) => loaded.add(m));
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { port: port2 }, transferList: [port2] });
await import(process.argv[1]);
await new Promise((r) => setTimeout(r, 50));
process.stdout.write(JSON.stringify({ clients: [...loaded].sort() }));
process.exit(0);`;

function runNode(bundle: Bundle, script: string, flags: string[]): Record<string, unknown> {
  const out = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script, bundle.file], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      AWS_LAMBDA_FUNCTION_NAME: bundle.name,
      ...bundle.environment,
    },
    encoding: "utf8",
  });
  if (out.status !== 0) throw new Error(`${bundle.name}: ${out.stderr.trim().split("\n").slice(-3).join(" ")}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const kb = (file: string) => Math.round(statSync(file).size / 1024);

/**
 * Module init of every synthesized Lambda bundle: each imported in a fresh Node process with the
 * SDK resolvable (as the Lambda runtime provides it), JS only and with source maps
 * (--enable-source-maps, as the functions run), the median of BENCH_COLD_RUNS runs, interleaved.
 * Also: the bundle's size, its source map's, and the SDK clients it loads at init. Synthesizes
 * first (`cdk synth`), unless BENCH_COLD_CDK_OUT names an existing cloud assembly;
 * BENCH_COLD_BASELINE names an earlier build's assembly to measure side by side (same SDK).
 */
export async function benchColdStart(): Promise<void> {
  let cdkOut = process.env.BENCH_COLD_CDK_OUT;
  if (!cdkOut) {
    cdkOut = "cdk.out";
    // The bundles do not depend on the sender; a deployable synth needs one (infra/settings.ts).
    const sender = ["-c", "kapa:reportSender=reports@kapa-service.dev"];
    execFileSync("npx", ["cdk", "synth", "--quiet", "-o", cdkOut, ...sender], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: "true" },
    });
  }
  const runs = Number(process.env.BENCH_COLD_RUNS ?? 5);
  const all = bundles(cdkOut);
  // An earlier build's cloud assembly (BENCH_COLD_BASELINE), measured interleaved with this one.
  const baselineDir = process.env.BENCH_COLD_BASELINE;
  const baseline = new Map((baselineDir ? bundles(baselineDir) : []).map((b) => [b.name, b]));
  const samples = new Map(
    all.map((b) => [b.name, { js: [] as number[], maps: [] as number[], before: [] as number[] }]),
  );
  for (let i = 0; i < runs; i++) {
    for (const bundle of all) {
      const s = samples.get(bundle.name);
      s?.js.push(Number(runNode(bundle, IMPORT_SCRIPT, []).initMs));
      s?.maps.push(Number(runNode(bundle, IMPORT_SCRIPT, ["--enable-source-maps"]).initMs));
      const before = baseline.get(bundle.name);
      if (before) s?.before.push(Number(runNode(before, IMPORT_SCRIPT, ["--enable-source-maps"]).initMs));
    }
  }
  const rows = all.map((bundle) => {
    const s = samples.get(bundle.name) ?? { js: [], maps: [], before: [] };
    const before = s.before.length > 0 ? Math.round(median(s.before)) : null;
    const clients = runNode(bundle, CLIENTS_SCRIPT, []).clients as string[];
    const api = bundle.name.startsWith("Api/");
    const withMaps = median(s.maps);
    return {
      function: bundle.name,
      init_ms_js: Math.round(median(s.js)),
      init_ms_with_source_maps: Math.round(withMaps),
      ...(before === null
        ? {}
        : { baseline_ms_with_source_maps: before, over_baseline: Math.round((withMaps / before) * 100) / 100 }),
      over_target: api ? Math.round((withMaps / TARGET_INIT_MS) * 100) / 100 : null,
      bundle_kb: kb(bundle.file),
      source_map_kb: kb(`${bundle.file}.map`),
      sdk_clients_at_init: clients.map((c) => c.replace("@aws-sdk/client-", "")).join(" ") || "-",
      lazy_ok: api ? !clients.some((c) => LAZY_CLIENTS.includes(c)) : null,
    };
  });
  const apiRows = rows.filter((r) => r.over_target !== null);
  report("cold-start", rows, {
    runs_per_function: runs,
    functions: rows,
    target: {
      api_init_ms_at_most: TARGET_INIT_MS,
      worst_api_init_ms_with_source_maps: Math.max(...apiRows.map((r) => r.init_ms_with_source_maps)),
      api_functions_without_sqs_sfn_secrets_at_init: apiRows.filter((r) => r.lazy_ok).length,
      api_functions: apiRows.length,
      met: apiRows.every((r) => r.init_ms_with_source_maps <= TARGET_INIT_MS && r.lazy_ok),
    },
  });
}
