import { PassThrough } from "node:stream";
import { and, eq, isNull } from "drizzle-orm";
import { expect, inject, it } from "vitest";
import { type BackfillCommandArgs, backfillCommand } from "../../cli/backfill.js";
import { seedCommand } from "../../cli/seed.js";
import { advertiseLocalBackfill } from "../../local/advertised.js";
import type { LocalDatabase } from "../../local/operator.js";
import { seedThreads } from "../../shared/admin/seed.js";
import { projects, threads } from "../../shared/db/schema.js";
import { loadEnv } from "../../shared/platform/config.js";
import { SMALL_PAGES } from "../support/backfill.js";
import { testDatabase } from "../support/database.js";
import { createTenant, useTestDb } from "../support/db.js";
import { startTestWorld } from "../support/world.js";

/**
 * `npx kapa seed threads` and `npx kapa backfill start|status`, as the CLI calls them: without
 * `npm start` (the whole backfill runs in the command's process), and with one running (the
 * execution runs there; the command starts it and watches).
 */

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();
const database: LocalDatabase = {
  db,
  target: testDatabase(),
  description: "test database",
  close: async () => {},
};
// A data directory of the file's own (the definition's cache, kept between runs; the advertised
// npm start), small pages, a fast classifier.
const dataDir = "node_modules/.cache/kapa-cli-test";
const env = loadEnv({ ...process.env, DATA_DIR: dataDir, SFN_PORT: "0" });

/** `npx kapa backfill <verb>`: its output, and `progress`, what it wrote to the progress stream. */
async function backfill(verb: "start" | "status", args: BackfillCommandArgs) {
  const stream = new PassThrough();
  let progress = "";
  stream.on("data", (chunk: Buffer) => {
    progress += chunk.toString();
  });
  const out = await backfillCommand(database, verb, args, { progress: stream, env });
  return { ...out, progress };
}

const unlabelledIn = async (projectId: string) =>
  (
    await db
      .select({ id: threads.id })
      .from(threads)
      .where(and(eq(threads.projectId, projectId), isNull(threads.categoryId)))
  ).length;

// Act and assess -----------------------------------------------------------------------------

it("seed threads fills new projects with realistic unlabelled threads, keeping the counters", async () => {
  const out = await seedCommand(db, "threads", { count: "500", projects: "2" });
  const ids = out.json.project_ids as string[];
  expect(out.json).toMatchObject({ threads: 500 });
  expect(ids).toHaveLength(2);
  const counters = await db
    .select({ n: projects.threadCount })
    .from(projects)
    .where(eq(projects.id, ids[0] as string));
  expect(counters[0]?.n).toBe(250);
  expect(await unlabelledIn(ids[0] as string)).toBe(250);
  const [sample] = await db
    .select()
    .from(threads)
    .where(eq(threads.projectId, ids[0] as string))
    .limit(1);
  expect(sample?.firstQuestion).toMatch(/\?$/);
  await expect(seedCommand(db, "threads", { count: "0" })).rejects.toThrow(/--count/);
});

it("backfill start without npm start runs the whole backfill in the command, with a progress bar, until done", async () => {
  const tenant = await createTenant(db, "cli");
  await seedThreads(db, { count: 300, projects: 0, projectIds: [tenant.projectId] });
  const out = await backfill("start", { project: tenant.projectId, interval: 0.2 });
  expect(out.json).toMatchObject({
    ok: true,
    job: { project_id: tenant.projectId, scope: "unlabelled", status: "done", enqueued: 300 },
    progress: { total: 300, pending: 0 },
    queued: 0,
    dead_lettered: 0,
  });
  expect(out.progress).toMatch(/Started job .* on this process/);
  expect(out.progress).toMatch(
    /\[#+\] 100\.0% {2}labelled 300\/300 {2}pending 0 {2}queued 0 {2}in DLQ 0 {2}rate [\d.?]+\/s {2}ETA/,
  );
  expect(out.text).toMatch(/: done, on this process/);
  expect(await unlabelledIn(tenant.projectId)).toBe(0);
}, 60_000);

it("with npm start running, backfill start runs the execution there; status follows it; --resume starts it again", async () => {
  // What npm start does: the local world, and its backfill advertised in its data directory.
  const running = await startTestWorld({
    label: "cli",
    context: SMALL_PAGES,
    consumers: ["classifier:BackfillQueueUrl"],
    deviations: { visibilityTimeoutSeconds: 1 },
  });
  const unadvertise = advertiseLocalBackfill(dataDir, {
    sqsEndpoint: inject("sqsEndpoint"),
    queueUrl: running.queueUrl("BackfillQueueUrl"),
    dlqUrl: running.queueUrl("BackfillDeadLetterQueueUrl"),
    sfnEndpoint: running.world.stepFunctions.endpoint,
    stateMachineArn: [...running.world.stateMachines.values()][0] as string,
  });
  try {
    const tenant = await createTenant(db, "cli-running");
    await seedThreads(db, { count: 400, projects: 0, projectIds: [tenant.projectId] });
    const started = await backfill("start", {
      project: tenant.projectId,
      scope: "unlabelled",
      watch: true,
      interval: 0.2,
    });
    expect(started.progress).toContain("on the local Step Functions of npm start");
    expect(started.json).toMatchObject({ ok: true, job: { status: "done", enqueued: 400 }, queued: 0 });
    const jobId = (started.json.job as { id: string }).id;

    const status = await backfill("status", { job: jobId, interval: 0.2 });
    expect(status.json).toMatchObject({ job: { id: jobId, status: "done" }, progress: { pending: 0 } });
    expect(status.text).toContain(`Job ${jobId} (unlabelled, project ${tenant.projectId}): done`);

    const resumed = await backfill("start", { resume: jobId, watch: true, interval: 0.2 });
    expect(resumed.json).toMatchObject({ job: { project_id: tenant.projectId, status: "done", enqueued: 0 } });

    await expect(backfill("start", { scope: "everything" })).rejects.toThrow(
      /--scope must be unlabelled or classifier/,
    );
  } finally {
    unadvertise();
    await running.stop();
  }
}, 60_000);
