import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type EmbeddedDatabase, startEmbeddedDatabase } from "../../local/embedded-db.js";
import type { LocalTask } from "../../local/step-functions.js";
import { seedThreads } from "../../shared/admin/seed.js";
import { getJob, type Job, resumeJob, startJob } from "../../shared/backfill/service.js";
import { closeRuntime, runtime } from "../../shared/composition/runtime.js";
import { connect } from "../../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../../shared/db/deadline.js";
import { runMigrations } from "../../shared/db/migrate.js";
import { executionOf, recordClassifierWrites, startTestBackfill, type TestBackfill } from "../support/backfill.js";
import { testDatabase } from "../support/database.js";
import { eventually } from "../support/sqs.js";

/**
 * A database restart in the middle of a backfill, then a re-run that finishes the job. The file
 * has a database of its own, so that it may take it down and walk every project: an embedded
 * PGlite in a data directory (stopped and started again), or a database of its own on the test
 * server (connections refused, and the open ones terminated, then allowed again).
 */

// Prepare ------------------------------------------------------------------------------------

interface Outage {
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function pgliteOutage(): Promise<Outage> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "kapa-restart-"));
  let embedded: EmbeddedDatabase | null = await startEmbeddedDatabase({ dataDir, port: 0 });
  const { url } = embedded.target;
  const port = Number(new URL(url).port);
  return {
    url,
    async down() {
      await embedded?.stop();
      embedded = null;
    },
    async up() {
      embedded = await startEmbeddedDatabase({ dataDir, port });
    },
    async close() {
      await embedded?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A database and a role of the file's own on the test server: "down" refuses the role's new
 * connections (too many connections, 53300) and terminates its open ones (57P01), as a
 * restarting server does; a superuser would be let in, so the handlers connect as the role.
 */
async function postgresOutage(serverUrl: string): Promise<Outage> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const name = `kapa_restart_${process.pid}_${Date.now()}`;
  // CREATEROLE: the migrations create the application role (drizzle/0007_app_role.sql), as the RDS master user may.
  await admin.unsafe(`create role ${name} login createrole`);
  await admin.unsafe(`create database ${name} owner ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  url.username = name;
  url.password = "";
  return {
    url: url.toString(),
    async down() {
      await admin.unsafe(`alter database ${name} connection limit 0`);
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}'`);
    },
    async up() {
      await admin.unsafe(`alter database ${name} connection limit -1`);
    },
    async close() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.unsafe(`drop role if exists ${name}`);
      await admin.end();
    },
  };
}

const shared = testDatabase();
const outage = shared.kind === "pglite" ? await pgliteOutage() : await postgresOutage(shared.url);
// This process's job start and reads use this database, as the world's functions do.
process.env.DATABASE_URL = outage.url;
process.env.KAPA_EMBEDDED_DB = shared.kind === "pglite" ? "1" : "";
// The test's own statements (seeding 1,200 threads) without the API's statement timeout.
const database = connect({
  url: outage.url,
  max: 2,
  embedded: shared.kind === "pglite",
  timeouts: UNBOUNDED_STATEMENTS,
});
await runMigrations(database.db);

/**
 * The database goes down as the second page's first range starts (the fourth EnqueueRange: pages
 * of three ranges, test/support/backfill.ts), and is back once that range's attempt has met it.
 */
let enqueueCalls = 0;
let restarted: Promise<void> | undefined;
const restartOnFourthRange = (state: string, task: LocalTask): LocalTask =>
  state !== "EnqueueRange"
    ? task
    : async (input) => {
        enqueueCalls++;
        if (enqueueCalls !== 4) return task(input);
        await outage.down();
        try {
          return await task(input);
        } finally {
          restarted = outage
            .up()
            // Fresh connections, as new Lambda environments would have: postgres-js backs off
            // reconnecting (up to 20 s) after the failures of the outage.
            .then(() => Promise.all([closeRuntime(), backfill.world.pool.recycle()]))
            .then(() => undefined);
        }
      };

let backfill: TestBackfill;
let writes: Awaited<ReturnType<typeof recordClassifierWrites>>;
beforeAll(async () => {
  backfill = await startTestBackfill({
    wrapTask: restartOnFourthRange,
    database: { url: outage.url, embedded: shared.kind === "pglite" },
  });
  writes = await recordClassifierWrites(database.db);
});
afterAll(async () => {
  await backfill?.stop();
  await closeRuntime();
  await database.close();
  await outage.close();
});

async function deps() {
  const { backfill: threads, backfillExecutions } = await runtime();
  return { threads, executions: backfillExecutions };
}

// Act and assess -----------------------------------------------------------------------------

it("rides out a database restart in the middle (or fails with its cause); a re-run does only what is left; each thread labelled once", async () => {
  const seeded = await seedThreads(database.db, { count: 1200, projects: 3 });

  const job: Job = await startJob(await deps(), { projectId: null, scope: "unlabelled" });
  expect(job.execution).toBe(`all_${job.id}`);
  const crashed = await executionOf(backfill, job);
  // Either its retries outlast the restart, or they are spent first and the run fails with the
  // cause (and no SQL or data in the execution history): both are fine, what is left is left.
  if (crashed.status === "FAILED") {
    expect(crashed.error).toBe("BackfillDatabaseError");
    expect(crashed.cause).toMatch(/^Database unavailable: /);
    // SQLSTATE and the statement's name ("select threads"), never its SQL text or parameters.
    expect(crashed.cause).not.toMatch(/\bfrom\b|\bwhere\b|\$\d|params/i);
  } else {
    expect(crashed.status).toBe("SUCCEEDED");
    expect(crashed.events.StateRetried).toBeGreaterThan(0); // the retries carried it through
  }

  await restarted;
  // The first page's ranges were sent before the crash: the classifier labels them once the
  // database is back, and the re-run plans only what is still unlabelled.
  await eventually(async () => {
    const { pending } = (await getJob(await deps(), null, job.id)).progress;
    return pending <= 900 ? pending : undefined;
  }, 30_000);
  const rerun = await resumeJob(await deps(), null, job.id);
  const execution = await executionOf(backfill, rerun);
  expect(execution.status).toBe("SUCCEEDED");
  expect((JSON.parse(execution.output ?? "{}") as { enqueued: number }).enqueued).toBeLessThanOrEqual(900);

  await eventually(async () => {
    const current = await getJob(await deps(), null, rerun.id);
    return current.status === "done" ? current : undefined;
  }, 30_000);
  for (const projectId of seeded.projectIds) {
    for (const [id, count] of await writes.perThread(projectId)) expect(count, id).toBe(1);
  }
}, 60_000);
