import { createTenant } from "../shared/admin/tenants.js";
import { createApiKey } from "../shared/auth/api-keys.js";
import { closeRuntime } from "../shared/composition/runtime.js";
import { type FaultRun, REQUEST_FAULTS, type RequestSpec, runFault } from "../test/support/fault-drive.js";
import { type FaultMode, startFaultProxy } from "../test/support/fault-proxy.js";
import { benchEnvironment, report } from "./lib.js";

/**
 * How fast the API answers while its database fails, and how soon it is back: the figures the
 * reliability suite (test/reliability/db-faults.test.ts) used to assert as wall-clock limits, which
 * a busy machine broke. The same fault proxy and request mix: handlers in this process behind the
 * local gateway, half the requests with a cached key, half with one the authorizer must look up.
 * The service's aim is an answer within 3 s during a fault (far inside API Gateway's 29 s);
 * `met` says whether this run's slowest answer was.
 */
const ANSWER_WITHIN_MS = 3000;
const FAULTS: readonly { fault: FaultMode; delayMs?: number }[] = [...REQUEST_FAULTS, { fault: "reset-after-login" }];

export async function benchFaults(
  seconds = Number(process.env.BENCH_FAULT_SECONDS ?? 4),
  concurrency = Number(process.env.BENCH_FAULT_CONCURRENCY ?? 8),
): Promise<void> {
  const env = await benchEnvironment();
  const proxy = await startFaultProxy(process.env.DATABASE_URL as string);
  try {
    // The handlers' runtime is built again at their next call, through the proxy.
    await closeRuntime();
    process.env.DATABASE_URL = proxy.url;
    const tenant = await createTenant(env.database.db, "bench-faults");
    const base = `${env.url}/query/v1/projects/${tenant.projectId}`;
    const fresh = (await createApiKey(env.database.db, { name: "fresh", projectIds: [tenant.projectId] })).key;
    const specs: RequestSpec[] = [
      { method: "GET", url: `${base}/threads/?limit=5`, key: tenant.apiKey },
      { method: "POST", url: `${base}/chat`, key: tenant.apiKey, body: { question: "Is the database up?" } },
      { method: "GET", url: `${base}/categories/stats/`, key: fresh },
      { method: "POST", url: `${base}/chat`, key: fresh, body: { question: "And now?" } },
    ];
    const runs: FaultRun[] = [];
    for (const { fault, delayMs } of FAULTS) {
      runs.push(await runFault(proxy, fault, () => specs, { seconds, concurrency, delayMs }));
    }
    const mix = (statuses: Record<string, number>) =>
      Object.entries(statuses)
        .map(([status, n]) => `${status}x${n}`)
        .join(" ");
    const rows = runs.map((run) => ({
      fault: run.fault,
      during: mix(run.during.statuses),
      during_p50_ms: run.during.p50_ms,
      during_p99_ms: run.during.p99_ms,
      during_max_ms: run.during.max_ms,
      first_after: `${run.first_after.status} in ${run.first_after.ms} ms`,
      after: mix(run.after.statuses),
      after_p99_ms: run.after.p99_ms,
    }));
    const slowest = Math.max(...runs.map((run) => run.during.max_ms));
    report("faults", rows, {
      unit: "ms",
      seconds_per_fault: seconds,
      concurrency,
      faults: runs.map(({ samplesDuring: _d, samplesAfter: _a, ...figures }) => figures),
      target: { answer_during_fault_within_ms: ANSWER_WITHIN_MS, slowest_ms: slowest, met: slowest < ANSWER_WITHIN_MS },
    });
  } finally {
    await env.close();
    await proxy.close();
  }
}
