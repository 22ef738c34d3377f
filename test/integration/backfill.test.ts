import { and, eq, inArray, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { BackfillQueueError } from "../../shared/backfill/errors.js";
import { getJob, type Job, resumeJob, startJob } from "../../shared/backfill/service.js";
import { runtime } from "../../shared/composition/runtime.js";
import { categories, threads } from "../../shared/db/schema.js";
import { reclassifyJob } from "../../shared/http/schemas.js";
import {
  executionOf,
  gate,
  labelsOf,
  recordClassifierWrites,
  SMALL_PAGES,
  startTestBackfill,
  type TestBackfill,
  wrapState,
} from "../support/backfill.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { eventually } from "../support/sqs.js";

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();

/** Faults the tests inject into the EnqueueRange task. */
const faults: { failRange?: (event: { range: { last: string } }) => boolean; hold?: Promise<void> } = {};
const wrapTask = wrapState("EnqueueRange", (task) => async (input) => {
  await faults.hold;
  if (faults.failRange?.(input as { range: { last: string } })) {
    throw new BackfillQueueError("injected: the backfill queue refuses messages");
  }
  return task(input);
});

let backfill: TestBackfill;
let writes: Awaited<ReturnType<typeof recordClassifierWrites>>;

beforeAll(async () => {
  backfill = await startTestBackfill({ wrapTask });
  writes = await recordClassifierWrites(db);
});
afterAll(async () => {
  await backfill.stop();
  await writes.drop();
});

async function jobDeps() {
  const { backfill: threadsRepo, backfillExecutions } = await runtime();
  return { threads: threadsRepo, executions: backfillExecutions };
}

/** A project with `count` unlabelled threads (and the default categories). */
async function projectWithThreads(count: number) {
  const tenant = await createTenant(db, "backfill");
  await seedThreads(db, { count, projects: 0, projectIds: [tenant.projectId], chunk: 1000 });
  return tenant;
}

const done = async (job: Job) =>
  eventually(async () => {
    const current = await getJob(await jobDeps(), job.projectId, job.id);
    return current.status === "done" ? current : undefined;
    // The classifier's environments labelling at the template's cap (2 x 10), on a loaded machine too.
  }, 90_000);

// Act and assess -----------------------------------------------------------------------------

/** One project the backfill tests below work on in turn, the first making it. */
let project: Awaited<ReturnType<typeof projectWithThreads>>;
let userLabelled: string[];
let preLabelled: string[];
/** Classifier writes per thread before the backfill (the test's own pre-labelling). */
let baseline: Map<string, number>;
const writesSince = async (from: Map<string, number>) =>
  new Map([...(await writes.perThread(project.projectId))].map(([id, n]) => [id, n - (from.get(id) ?? 0)]));

describe("backfill on the local Step Functions", () => {
  it("runs the definition CDK synthesizes (with the test's page sizes)", () => {
    const entries = Object.entries(backfill.machine.tasks).map(([state, id]) => [
      state,
      backfill.topology.functions[id]?.entry,
    ]);
    expect(Object.fromEntries(entries)).toEqual({ Plan: "backfill-plan", EnqueueRange: "backfill-enqueue-range" });
    expect(backfill.machine.definition.States.Plan).toMatchObject({
      Parameters: { pageSize: SMALL_PAGES["kapa:backfillPageSize"], rangeSize: SMALL_PAGES["kapa:backfillRangeSize"] },
    });
    expect(backfill.stateMachineArn).toMatch(/^arn:aws:states:[^:]+:\d{12}:stateMachine:BackfillStateMachine/);
  });

  it("labels every unlabelled thread of a project exactly once, and no thread labelled before", {
    timeout: 120_000,
  }, async () => {
    project = await projectWithThreads(2000);
    const [discovery] = await db.select().from(categories).where(eq(categories.projectId, project.projectId));
    const before = await labelsOf(db, project.projectId);
    userLabelled = before.slice(0, 10).map((t) => t.id);
    preLabelled = before.slice(10, 20).map((t) => t.id);
    await db
      .update(threads)
      .set({ categoryId: discovery?.id, categorySource: "user", classifiedAt: new Date() })
      .where(inArray(threads.id, userLabelled));
    await db
      .update(threads)
      .set({ categoryId: discovery?.id, categorySource: "classifier", classifiedAt: new Date(Date.now() - 3_600_000) })
      .where(inArray(threads.id, preLabelled));

    baseline = await writes.perThread(project.projectId);

    const job = await startJob(await jobDeps(), { projectId: project.projectId, scope: "unlabelled" });
    expect(job.status).toBe("enqueueing");
    const execution = await executionOf(backfill, job);
    expect(execution.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution.output ?? "{}")).toMatchObject({ enqueued: 1980, pages: 7, scope: "unlabelled" });
    // 1980 ids in ranges of 100: 20 Map iterations over 7 pages (the last page finds nothing).
    expect(execution.events.MapIterationStarted).toBe(20);
    // docs/backfill.md's count of Step Functions history events: 2 + 11 L + 7 ranges + 4. The
    // interpreter records 2 events per task where Lambda tasks record 5, and no MapStateStarted
    // or MapStateSucceeded: converted, its count is that.
    const recorded = Object.values(execution.events).reduce((a, b) => a + b, 0);
    expect(recorded + 3 * (7 + 20) + 2 * 7).toBe(2 + 11 * 7 + 7 * 20 + 4);

    const finished = await done(job);
    expect(finished.progress).toEqual({ total: 2000, pending: 0, done: 2000 });
    const perThread = await writesSince(baseline);
    for (const [id, count] of perThread) {
      expect(count, id).toBe(userLabelled.includes(id) || preLabelled.includes(id) ? 0 : 1);
    }
    const after = await labelsOf(db, project.projectId);
    for (const t of after.filter((t) => userLabelled.includes(t.id))) expect(t.source).toBe("user");
  });

  it("does nothing when run again: nothing is left", async () => {
    const job = await startJob(await jobDeps(), { projectId: project.projectId, scope: "unlabelled" });
    const execution = await executionOf(backfill, job);
    expect(JSON.parse(execution.output ?? "{}")).toMatchObject({ enqueued: 0, pages: 1 });
    expect(execution.events.MapIterationStarted ?? 0).toBe(0);
  });
});

describe("backfill: reclassifying, failing and bad input", () => {
  it("reclassifies the classifier's labels written before its cutoff, once each, never a user's", async () => {
    const before = await writes.perThread(project.projectId);
    const job = await startJob(await jobDeps(), { projectId: project.projectId, scope: "classifier" });
    const execution = await executionOf(backfill, job);
    expect(JSON.parse(execution.output ?? "{}")).toMatchObject({ enqueued: 1990, scope: "classifier" });
    await done(job);
    const after = await labelsOf(db, project.projectId);
    const perThread = await writesSince(before);
    for (const t of after) {
      if (userLabelled.includes(t.id)) {
        expect(t.source).toBe("user");
        expect(perThread.get(t.id)).toBe(0);
        continue;
      }
      expect(t.source).toBe("classifier");
      expect(t.classifiedAt?.getTime()).toBeGreaterThanOrEqual(job.classifiedBefore.getTime());
      expect(perThread.get(t.id), t.id).toBe(1);
    }
    // Resumed with the same cutoff, it finds nothing left to do.
    const again = await resumeJob(await jobDeps(), project.projectId, job.id);
    expect(again.classifiedBefore).toEqual(job.classifiedBefore);
    expect(JSON.parse((await executionOf(backfill, again)).output ?? "{}")).toMatchObject({ enqueued: 0 });
  });

  it("fails with the cause when EnqueueRange keeps failing; a re-run does only what is left, each thread once", async () => {
    const tenant = await projectWithThreads(1500);
    const allowed = new Set<string>();
    faults.failRange = ({ range }) => {
      if (allowed.size < 5) allowed.add(range.last);
      return !allowed.has(range.last);
    };
    const job = await startJob(await jobDeps(), { projectId: tenant.projectId, scope: "unlabelled" });
    const failed = await executionOf(backfill, job);
    faults.failRange = undefined;
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toBe("BackfillQueueError");
    expect(failed.cause).toContain("injected: the backfill queue refuses messages");
    expect(failed.events.StateRetried).toBeGreaterThan(0); // retried with backoff before giving up
    expect((await getJob(await jobDeps(), tenant.projectId, job.id)).status).toBe("failed");

    // The ranges that went through are labelled meanwhile; the re-run plans only what is left.
    await eventually(async () => {
      const pending = (await getJob(await jobDeps(), tenant.projectId, job.id)).progress.pending;
      return pending <= 1500 - 500 ? pending : undefined;
    });
    const pendingBefore = (await getJob(await jobDeps(), tenant.projectId, job.id)).progress.pending;
    const rerun = await resumeJob(await jobDeps(), tenant.projectId, job.id);
    const execution = await executionOf(backfill, rerun);
    expect(execution.status).toBe("SUCCEEDED");
    const enqueued = (JSON.parse(execution.output ?? "{}") as { enqueued: number }).enqueued;
    expect(enqueued).toBeLessThanOrEqual(pendingBefore);
    expect(enqueued).toBeGreaterThan(0);
    await done(rerun);
    for (const [id, count] of await writes.perThread(tenant.projectId)) expect(count, id).toBe(1);
  });

  it("fails an execution whose input is not a backfill request, with the reason", async () => {
    const { backfillExecutions } = await runtime();
    const started = await backfillExecutions.start(`bad-${Date.now()}`, { scope: "everything" } as never);
    const execution = await backfill.stepFunctions.waitFor(started.arn);
    expect(execution.status).toBe("FAILED");
    expect(execution.error).toBe("InvalidBackfillInput");
    expect(execution.cause).toContain("scope");
  });
});

describe("POST and GET reclassify/", () => {
  it("starts a job (202, Location), reports its progress to done, and hides it from other projects", async () => {
    const tenant = await projectWithThreads(300);
    const other = await createTenant(db, "other");
    const started = await invoke("startReclassify", tenant, { body: { scope: "unlabelled" } });
    expect(started.status).toBe(202);
    const job = reclassifyJob.parse(started.body);
    expect(job).toMatchObject({ project: tenant.projectId, scope: "unlabelled", status: "enqueueing", error: null });
    expect(started.raw.headers?.location).toMatch(new RegExp(`/reclassify/${job.id}/$`));

    const finished = await eventually(async () => {
      const got = await invoke("getReclassify", tenant, { params: { job_id: job.id } });
      expect(got.status).toBe(200);
      return got.body.status === "done" ? reclassifyJob.parse(got.body) : undefined;
    });
    expect(finished).toMatchObject({ enqueued: 300, progress: { total: 300, done: 300, pending: 0, percent: 100 } });
    expect(finished.enqueued_at).not.toBeNull();

    for (const [who, id] of [
      [other, job.id],
      [tenant, crypto.randomUUID()],
    ] as const) {
      const got = await invoke("getReclassify", who, { params: { job_id: id } });
      expect(got.status).toBe(404);
      expect(got.body).toEqual({ detail: `Reclassify job ${id} not found` });
    }
  });

  it("refuses a second job of the same scope while one enqueues (409, with its id), and an unknown scope (400)", async () => {
    const tenant = await projectWithThreads(200);
    const held = gate();
    faults.hold = held.opened;
    try {
      const first = await invoke("startReclassify", tenant, { body: { scope: "classifier" } });
      expect(first.status).toBe(202);
      const second = await invoke("startReclassify", tenant, { body: { scope: "classifier" } });
      expect(second.status).toBe(409);
      expect(second.body.detail).toContain(String(first.body.id));
      expect(second.body.id).toBe(first.body.id);
      // Another project is not blocked.
      const elsewhere = await invoke("startReclassify", await createTenant(db, "elsewhere"), {
        body: { scope: "unlabelled" },
      });
      expect(elsewhere.status).toBe(202);
    } finally {
      held.open();
      faults.hold = undefined;
    }
    const invalid = await invoke("startReclassify", tenant, { body: { scope: "everything" } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([{ path: "body.scope", message: "scope must be unlabelled or classifier" }]);
    // Nothing is left unlabelled by the held job once released.
    await eventually(async () => {
      const left = await db
        .select({ id: threads.id })
        .from(threads)
        .where(and(eq(threads.projectId, tenant.projectId), isNull(threads.categoryId)));
      return left.length === 0 ? true : undefined;
    });
  });
});
