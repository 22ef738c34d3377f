import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshRuntimeEnv, startNpmStart } from "../test/support/processes.js";
import { machineLoad, report } from "./lib.js";

/**
 * A keyed client's success rate while 16 workers flood the gateway from the same address, on the
 * one local world `npm start` builds (its WAF rules, stage throttling and usage plan from the
 * template). Variants: no key; junk that cannot be a key (the WAF's malformed-key rule); junk
 * of the signed keys' exact shape (new prefix and random part each time: only the secret tells it
 * from a key, so it passes the WAF and reaches the authorizer); junk of the legacy keys' shape.
 */

const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 8);
const WORKERS = 16;
/** The keyed client's pace: well inside its usage plan (20/s), so only the flood can refuse it. */
const KEYED_PER_SECOND = 10;

const VARIANTS: Record<string, () => Record<string, string>> = {
  keyless: () => ({}),
  "junk-malformed": () => ({ "X-API-KEY": `kapa_junk_${randomBytes(8).toString("hex")}` }),
  "junk-wellformed": () => ({
    "X-API-KEY": `kapa2_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`,
  }),
  "junk-legacy-shape": () => ({
    "X-API-KEY": `kapa_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`,
  }),
};

async function status(url: string, headers: Record<string, string>): Promise<number> {
  try {
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // a refused or reset connection
  }
}

/** `projectUrl` on 127.0.0.1: no name lookup per request of the flood. */
async function runVariant(runtime: { projectUrl: string; apiKey: string }, variant: string) {
  const url = `${runtime.projectUrl}/threads/`;
  const headersOf = VARIANTS[variant] as () => Record<string, string>;
  const until = performance.now() + FLOOD_SECONDS * 1000;
  const flood = new Map<number, number>();
  const keyed = new Map<number, number>();
  const count = (into: Map<number, number>, s: number) => into.set(s, (into.get(s) ?? 0) + 1);
  const worker = async () => {
    while (performance.now() < until) count(flood, await status(url, headersOf()));
  };
  const client = async () => {
    for (let i = 0; performance.now() < until; i++) {
      count(keyed, await status(url, { "X-API-KEY": runtime.apiKey }));
      const next = until - FLOOD_SECONDS * 1000 + ((i + 1) * 1000) / KEYED_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
  };
  const started = performance.now();
  await Promise.all([client(), ...Array.from({ length: WORKERS }, worker)]);
  const seconds = (performance.now() - started) / 1000;
  const keyedTotal = [...keyed.values()].reduce((a, b) => a + b, 0);
  const floodTotal = [...flood.values()].reduce((a, b) => a + b, 0);
  return {
    variant,
    keyed_requests: keyedTotal,
    keyed_ok: keyed.get(200) ?? 0,
    keyed_success_rate: Math.round(((keyed.get(200) ?? 0) / Math.max(1, keyedTotal)) * 10_000) / 100,
    keyed_statuses: JSON.stringify(Object.fromEntries(keyed)),
    flood_requests: floodTotal,
    flood_rps: Math.round(floodTotal / seconds),
    flood_statuses: JSON.stringify(Object.fromEntries([...flood].sort(([a], [b]) => a - b))),
  };
}

export async function benchFairnessKeyless(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "kapa-bench-keyless-"));
  const started = await startNpmStart({ ...freshRuntimeEnv(dataDir), LOG_LEVEL: "error" }, 300_000);
  const runtime = { projectUrl: started.projectUrl.replace("localhost", "127.0.0.1"), apiKey: started.apiKey };
  try {
    // Warm the keyed path (the authorizer's and the handler's first invocations), not measured.
    for (let i = 0; i < 3; i++) await status(`${runtime.projectUrl}/threads/`, { "X-API-KEY": runtime.apiKey });
    const rows = [];
    for (const variant of Object.keys(VARIANTS)) {
      rows.push({ ...(await runVariant(runtime, variant)), load_average_1m: machineLoad().load_average[0] });
    }
    report("fairness-keyless", rows, {
      flood_seconds: FLOOD_SECONDS,
      workers: WORKERS,
      keyed_per_second: KEYED_PER_SECOND,
      target_keyed_success_rate: 99,
      variants: rows,
    });
  } finally {
    await started.stop("SIGINT");
    rmSync(dataDir, { recursive: true, force: true });
  }
}
