import { stats } from "../../bench/lib.js";
import type { FaultMode, FaultProxy } from "./fault-proxy.js";

/** One HTTP answer as the fault harness records it. */
export interface Sample {
  status: number;
  ms: number;
  retryAfter: string | null;
  /** The JSON body's detail, when there is one. */
  detail: unknown;
}

export interface RequestSpec {
  method: string;
  url: string;
  key: string;
  body?: unknown;
}

/** A request's own deadline: API Gateway's integration timeout (29 s); past it AWS answers 504. */
export const REQUEST_DEADLINE_MS = 29_000;

/** Sends one request and times it; a request unanswered by its deadline counts as status 0. */
export async function timedRequest(spec: RequestSpec): Promise<Sample> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(spec.url, {
      method: spec.method,
      headers: { "X-API-KEY": spec.key, "content-type": "application/json" },
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
    });
  } catch (error) {
    return {
      status: 0,
      ms: performance.now() - started,
      retryAfter: null,
      detail: `${spec.method} ${spec.url}: ${error}`,
    };
  }
  const text = await response.text();
  const ms = performance.now() - started;
  let detail: unknown;
  try {
    detail = (JSON.parse(text) as { detail?: unknown }).detail;
  } catch {
    detail = undefined;
  }
  return { status: response.status, ms, retryAfter: response.headers.get("retry-after"), detail };
}

/** `concurrency` clients send requests (round robin over `specs`) for `seconds`. */
export async function drive(specs: () => RequestSpec[], seconds: number, concurrency: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const deadline = performance.now() + seconds * 1000;
  let turn = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const list = specs();
        const spec = list[turn++ % list.length] as RequestSpec;
        samples.push(await timedRequest(spec));
      }
    }),
  );
  return samples;
}

export interface PhaseFigures {
  requests: number;
  statuses: Record<string, number>;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function figures(samples: readonly Sample[]): PhaseFigures {
  const statuses: Record<string, number> = {};
  for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  const latency = stats(samples.map((s) => s.ms));
  return {
    requests: samples.length,
    statuses,
    p50_ms: Math.round(latency.p50),
    p99_ms: Math.round(latency.p99),
    max_ms: Math.round(latency.max),
  };
}

/**
 * The database faults a request may meet, each answered 503 with Retry-After and healed at once
 * (test/reliability/db-faults.test.ts asserts it; `npm run bench faults` measures it).
 */
export const REQUEST_FAULTS: readonly { fault: FaultMode; delayMs?: number }[] = [
  { fault: "refuse" },
  { fault: "reset" },
  { fault: "blackhole" },
  { fault: "too-many-connections" },
  { fault: "starting-up" },
  { fault: "delay", delayMs: 100 },
];

export interface FaultRun {
  fault: FaultMode;
  during: PhaseFigures;
  /** The first request once the database is back. */
  first_after: { status: number; ms: number };
  after: PhaseFigures;
  samplesDuring: Sample[];
  samplesAfter: Sample[];
}

/**
 * A fault, then recovery: traffic while the proxy misbehaves, then the first request after it
 * heals, then more traffic. `specs` is called for each request (fresh keys for the authorizer).
 */
export async function runFault(
  proxy: FaultProxy,
  fault: FaultMode,
  specs: () => RequestSpec[],
  options: { seconds: number; concurrency: number; delayMs?: number },
): Promise<FaultRun> {
  await proxy.set(fault, { delayMs: options.delayMs });
  const samplesDuring = await drive(specs, options.seconds, options.concurrency);
  await proxy.set("pass");
  const first = await timedRequest(specs()[0] as RequestSpec);
  const samplesAfter = await drive(specs, Math.max(1, options.seconds / 2), options.concurrency);
  return {
    fault,
    during: figures(samplesDuring),
    first_after: { status: first.status, ms: Math.round(first.ms) },
    after: figures([first, ...samplesAfter]),
    samplesDuring,
    samplesAfter: [first, ...samplesAfter],
  };
}

/** A row of the figures table (docs/reliability.md). */
export function tableRow(run: FaultRun): string {
  const mix = (f: PhaseFigures) =>
    Object.entries(f.statuses)
      .map(([status, n]) => `${status}×${n}`)
      .join(" ");
  return `| ${run.fault} | ${mix(run.during)} | ${run.during.p50_ms} / ${run.during.p99_ms} / ${run.during.max_ms} | ${run.first_after.status} in ${run.first_after.ms} ms | ${mix(run.after)} | ${run.after.p50_ms} / ${run.after.p99_ms} |`;
}

/** The figures table of a series of faults, as docs/reliability.md shows it. */
export function figuresTable(title: string, runs: readonly FaultRun[]): string {
  return [
    "",
    `${title}:`,
    "| fault | during: statuses | during: p50 / p99 / max ms | first after | after: statuses | after: p50 / p99 ms |",
    "|---|---|---|---|---|---|",
    ...runs.map(tableRow),
    "",
  ].join("\n");
}
