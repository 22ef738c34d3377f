import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../shared/auth/api-keys.js";
import { testDatabase } from "../support/database.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { type FaultRun, figuresTable, type RequestSpec, runFault } from "../support/fault-drive.js";
import { type FaultMode, type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { type LocalRuntime, useLocalRuntime } from "../support/processes.js";

/**
 * The same database faults against `npm start` as a user runs it, with DATABASE_URL pointing at
 * the fault proxy in front of the run's database: requests with a cached key (the handlers) and
 * with a fresh key (the authorizer) answer 503 with Retry-After during the fault, before their
 * own deadline, and the first request after it succeeds. The timings are `npm run bench faults`.
 */
const database = testDatabase();
const db = useTestDb();
const SECONDS = Number(process.env.FAULT_SECONDS ?? 2);
const local = useLocalRuntime(
  "db-faults",
  {
    LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? "silent",
    // Answers during a fault are fast: the per-key and the stage limits would turn them into 429s.
    PER_KEY_RATE_LIMIT: "0",
    API_THROTTLING_RATE_LIMIT: "10000",
    API_THROTTLING_BURST_LIMIT: "20000",
  },
  "SIGINT",
);

let proxy: FaultProxy;
let runtime: LocalRuntime;
let tenant: Tenant;
let base: string;
const runs: FaultRun[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy(database.url);
  runtime = await local.start({ timeoutMs: 90_000, env: { DATABASE_URL: proxy.url } });
  tenant = await createTenant(db, "npm-start-faults");
  base = `${runtime.baseUrl.replace("localhost", "127.0.0.1")}/query/v1/projects/${tenant.projectId}`;
}, 120_000);

afterAll(async () => {
  await runtime?.stop("SIGINT"); // before its database's proxy goes
  await proxy?.close();
  process.stdout.write(figuresTable("database faults (npm start)", runs));
});

describe("npm start with its database failing", () => {
  const faults: FaultMode[] = ["refuse", "reset", "blackhole"];
  it.each(faults)(
    "%s: 503 with Retry-After before the request's deadline, then back to normal at once",
    async (fault) => {
      const fresh = (await createApiKey(db, { name: "fresh", projectIds: [tenant.projectId] })).key;
      const specs: RequestSpec[] = [
        { method: "GET", url: `${base}/threads/`, key: tenant.apiKey },
        { method: "POST", url: `${base}/chat`, key: tenant.apiKey, body: { question: "Still there?" } },
        { method: "GET", url: `${base}/categories/`, key: fresh },
      ];
      // The cached key is in the gateway's authorizer cache before the fault.
      expect((await fetch(`${base}/threads/`, { headers: { "X-API-KEY": tenant.apiKey } })).status).toBe(200);
      const run = await runFault(proxy, fault, () => specs, { seconds: SECONDS, concurrency: 8 });
      runs.push(run);
      process.stdout.write(
        `npm start ${fault}: ${JSON.stringify({ during: run.during, first_after: run.first_after, after: run.after })}\n`,
      );
      for (const s of run.samplesDuring) {
        expect(s.status).toBe(503);
        expect(s.retryAfter).toBe("1");
        expect(typeof s.detail).toBe("string");
      }
      expect(run.first_after.status, runtime.output().slice(-2000)).toBe(200);
      for (const s of run.samplesAfter) expect(s.status >= 200 && s.status < 300, `${s.status} ${s.detail}`).toBe(true);
    },
  );
});
