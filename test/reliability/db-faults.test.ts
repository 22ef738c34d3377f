import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../local/gateway.js";
import { createApiKey } from "../../shared/auth/api-keys.js";
import { closeRuntime } from "../../shared/composition/runtime.js";
import { testDatabase } from "../support/database.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import {
  type FaultRun,
  figuresTable,
  REQUEST_FAULTS,
  type RequestSpec,
  runFault,
  type Sample,
} from "../support/fault-drive.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";

/**
 * Database faults under the handlers, on the run's real database (Postgres, or PGlite's socket)
 * behind a fault-injection proxy: the local gateway and the handlers run in this process as in
 * Lambda. Half the requests carry a key the authorizer has cached (they reach the handlers), the
 * rest a key it has never seen (they need the authorizer's database read). Every request during
 * a fault is answered, 503 with Retry-After, before its own deadline (API Gateway's integration
 * timeout); once the database is back, the first request succeeds. How fast is a figure, not a
 * pass mark here: `npm run bench faults` measures it. No promise rejection may go unhandled
 * meanwhile (in Lambda one ends the runtime).
 */
const database = testDatabase();
const db = useTestDb();
const SECONDS = Number(process.env.FAULT_SECONDS ?? 2);
const CONCURRENCY = 8;

let proxy: FaultProxy;
let gateway: Gateway;
let tenant: Tenant;
let base: string;
const runs: FaultRun[] = [];

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
};

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  proxy = await startFaultProxy(database.url);
  if (process.env.FAULT_LOG_LEVEL) process.env.LOG_LEVEL = process.env.FAULT_LOG_LEVEL;
  // The handlers' runtime reaches the database through the proxy (built at their first call).
  await closeRuntime();
  process.env.DATABASE_URL = proxy.url;
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
  tenant = await createTenant(db, "db-faults");
  base = `${gateway.url.replace("localhost", "127.0.0.1")}/query/v1/projects/${tenant.projectId}`;
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await gateway?.close();
  await closeRuntime();
  await proxy?.close();
  process.stdout.write(figuresTable("database faults (handlers in-process)", runs));
});

/** Requests with the cached key (handlers) and with a key never seen before (the authorizer). */
async function requestMix(): Promise<() => RequestSpec[]> {
  const fresh = (await createApiKey(db, { name: "fresh", projectIds: [tenant.projectId] })).key;
  const specs: RequestSpec[] = [
    { method: "GET", url: `${base}/threads/?limit=5`, key: tenant.apiKey },
    { method: "POST", url: `${base}/chat`, key: tenant.apiKey, body: { question: "Is the database up?" } },
    { method: "GET", url: `${base}/categories/stats/`, key: fresh },
    { method: "POST", url: `${base}/chat`, key: fresh, body: { question: "And now?" } },
  ];
  return () => specs;
}

function expectRetryable503(samples: readonly Sample[]) {
  for (const s of samples) {
    expect(s.status).toBe(503);
    expect(s.retryAfter).toBe("1");
    expect(typeof s.detail).toBe("string");
  }
}

describe("the database fails under the handlers", () => {
  it("answers normally through the proxy", async () => {
    const specs = await requestMix();
    for (const spec of specs()) {
      const reply = await fetch(spec.url, {
        method: spec.method,
        headers: { "X-API-KEY": spec.key, "content-type": "application/json" },
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      });
      expect(reply.status === 200 || reply.status === 201).toBe(true);
    }
  });

  it.each(REQUEST_FAULTS)(
    "$fault: 503 with Retry-After before the request's deadline, then back to normal at once",
    async ({ fault, delayMs }) => {
      // A cached key: one request before the fault puts it in the authorizer's cache.
      const specs = await requestMix();
      const run = await runFault(proxy, fault, specs, { seconds: SECONDS, concurrency: CONCURRENCY, delayMs });
      runs.push(run);
      process.stdout.write(
        `${fault}: ${JSON.stringify({ during: run.during, first_after: run.first_after, after: run.after })}\n`,
      );
      const unexpected = [
        ...run.samplesDuring.filter((s) => s.status === 0 || s.status === 500),
        ...run.samplesAfter.filter((s) => s.status >= 300),
      ];
      for (const s of unexpected) {
        process.stdout.write(`  ${s.status} ${Math.round(s.ms)} ms ${String(s.detail)}\n`);
      }
      if (fault === "delay") {
        // A slow network: answers are slower, or a 503 when one statement would take too long;
        // never a 500. Each statement stays under the deadline; a request of several takes longer.
        for (const s of run.samplesDuring) expect([200, 201, 503]).toContain(s.status);
      } else {
        expectRetryable503(run.samplesDuring);
      }
      // Answered, never left to the client's deadline (status 0), and nothing unhandled meanwhile.
      expect(run.samplesDuring.filter((s) => s.status === 0)).toEqual([]);
      expect(unhandled).toEqual([]);
      // Back to normal at once, refused logins included: a request whose connection was refused
      // just before the database recovered is run again (retryRefusedConnection) instead of a 503.
      expect(run.first_after.status).toBeLessThan(300);
      for (const s of run.samplesAfter) {
        expect(s.status >= 200 && s.status < 300, `${s.status} in ${Math.round(s.ms)} ms: ${String(s.detail)}`).toBe(
          true,
        );
      }
    },
  );
});
