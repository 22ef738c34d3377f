import { eq, inArray, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { relabelDeletedCategories } from "../../shared/categories/relabel.js";
import { UnlabelRepository } from "../../shared/categories/unlabel.js";
import { type ClassificationQueue, SqsClassificationQueue } from "../../shared/classification/queue.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { BACKLOG_RESEND_DELAY_SECONDS } from "../../shared/classification/requested.js";
import { LIVE_RESENDS_PER_PROJECT, sweep } from "../../shared/classification/sweeper.js";
import { connect } from "../../shared/db/client.js";
import { API_TIMEOUTS } from "../../shared/db/deadline.js";
import { categories, threads } from "../../shared/db/schema.js";
import { testDatabase } from "../support/database.js";
import { createTenant, useTestDb } from "../support/db.js";
import { createTestQueue, drainRequests, testSqs } from "../support/sqs.js";

const db = useTestDb();

/** A project with `count` unlabelled threads last sent to the classifier ten minutes ago. */
async function projectWithDueThreads(label: string, count: number): Promise<{ projectId: string; ids: Set<string> }> {
  const tenant = await createTenant(db, label);
  await seedThreads(db, { count, projects: 0, projectIds: [tenant.projectId], chunk: count });
  await db.execute(sql`
    update threads set created_at = now() - interval '20 minutes', classification_requested_at = now() - interval '10 minutes'
    where project_id = ${tenant.projectId}::uuid`);
  const rows = await db
    .select({ id: threads.id })
    .from(threads)
    .where(inArray(threads.projectId, [tenant.projectId]));
  return { projectId: tenant.projectId, ids: new Set(rows.map((r) => r.id)) };
}

/**
 * What the classifier's label write does to the rows it labels (lockedLabels,
 * shared/labels/history.ts): locks them, here until `release()`, which ends the transaction.
 */
async function holdRows(ids: readonly string[]): Promise<{ release(): Promise<void> }> {
  let finish = () => {};
  const held = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let transaction: Promise<unknown> = Promise.resolve();
  await new Promise<void>((locked, failed) => {
    transaction = db.transaction(async (tx) => {
      await tx
        .select({ id: threads.id })
        .from(threads)
        .where(inArray(threads.id, [...ids]))
        .for("update");
      locked();
      await held;
    });
    transaction.catch(failed);
  });
  return {
    async release() {
      finish();
      await transaction;
    },
  };
}

describe("sweeper: a fair share per project, backlog to the backfill queue", () => {
  it("sends a quiet project's due threads beside a noisy one's, the noisy one's beyond a few through the backfill queue", async () => {
    const noisy = await projectWithDueThreads("sweep-noisy", 1_500);
    const quiet = await projectWithDueThreads("sweep-quiet", 5);
    const live = await createTestQueue("sweep-live");
    const backfill = await createTestQueue("sweep-backfill");
    const maxThreads = 400;

    const result = await sweep(
      {
        labels: new LabelsRepository(db),
        queue: new SqsClassificationQueue(testSqs, live.queueUrl),
        backfillQueue: new SqsClassificationQueue(testSqs, backfill.queueUrl),
      },
      { graceSeconds: 300, lookbackHours: 24, maxThreads },
    );
    expect(result.requeued).toBeLessThanOrEqual(maxThreads);

    const toLive = await drainRequests(live.queueUrl);
    const toBackfill = await drainRequests(backfill.queueUrl);
    const of = (requests: typeof toLive, project: { ids: Set<string> }) =>
      requests.filter((r) => project.ids.has(r.threadId));
    // The quiet project: all of it, at live speed.
    expect(of(toLive, quiet)).toHaveLength(5);
    expect(of(toBackfill, quiet)).toEqual([]);
    // The noisy project: at most half the run (at least two projects are due), a few of it live.
    expect(of(toLive, noisy)).toHaveLength(LIVE_RESENDS_PER_PROJECT);
    const noisySent = of(toLive, noisy).length + of(toBackfill, noisy).length;
    expect(noisySent).toBeGreaterThan(LIVE_RESENDS_PER_PROJECT);
    expect(noisySent).toBeLessThanOrEqual(maxThreads / 2);
    for (const r of [...toLive, ...toBackfill]) expect(r.projectId).toBeDefined();
    // Each sent once, and marked: a second run at once sends none of them again.
    expect(new Set([...toLive, ...toBackfill].map((r) => r.threadId)).size).toBe(toLive.length + toBackfill.length);
    const again = await new LabelsRepository(db).dueForSweep(300, 24, maxThreads);
    const sent = new Set([...toLive, ...toBackfill].map((r) => r.threadId));
    expect(again.filter((d) => sent.has(d.id))).toEqual([]);
  });
});

describe("sweeper: threads waiting on the backfill queue", () => {
  it("are not sent again while the backfill queue may still hold them, and are once that delay is over", async () => {
    const project = await projectWithDueThreads("sweep-backlog", 3 * LIVE_RESENDS_PER_PROJECT);
    const live = await createTestQueue("sweep-backlog-live");
    const backfill = await createTestQueue("sweep-backlog-backfill");
    const labels = new LabelsRepository(db);
    const deps = {
      labels,
      queue: new SqsClassificationQueue(testSqs, live.queueUrl),
      backfillQueue: new SqsClassificationQueue(testSqs, backfill.queueUrl),
    };
    const options = { graceSeconds: 300, lookbackHours: 24, maxThreads: 1_000 };
    await sweep(deps, options);
    const toLive = (await drainRequests(live.queueUrl)).filter((r) => project.ids.has(r.threadId));
    const toBackfill = (await drainRequests(backfill.queueUrl)).filter((r) => project.ids.has(r.threadId));
    expect(toLive).toHaveLength(LIVE_RESENDS_PER_PROJECT);
    expect(toBackfill).toHaveLength(2 * LIVE_RESENDS_PER_PROJECT);

    // Twice the live grace later, none labelled yet: the live ones are due again, the backfill ones not.
    const shift = async (seconds: number) =>
      db.execute(sql`
        update threads set classification_requested_at = classification_requested_at - make_interval(secs => ${seconds})
        where project_id = ${project.projectId}::uuid`);
    await shift(2 * options.graceSeconds);
    const due = new Set((await labels.dueForSweep(options.graceSeconds, 24, 1_000)).map((d) => d.id));
    expect(toLive.every((r) => due.has(r.threadId))).toBe(true);
    expect(toBackfill.some((r) => due.has(r.threadId))).toBe(false);

    // Once the backfill delay is over too, a thread still unlabelled (its message lost) is due again.
    await shift(BACKLOG_RESEND_DELAY_SECONDS);
    const later = new Set((await labels.dueForSweep(options.graceSeconds, 24, 1_000)).map((d) => d.id));
    expect(toBackfill.every((r) => later.has(r.threadId))).toBe(true);
  });
});

describe("sweeper: the classifier takes the backlog at once", () => {
  it("finishes the run while the classifier holds the sent threads' rows", async () => {
    const project = await projectWithDueThreads("sweep-racing", 3 * LIVE_RESENDS_PER_PROJECT);
    const live = await createTestQueue("sweep-racing-live");
    const backfill = await createTestQueue("sweep-racing-backfill");
    // The sweeper's own connection, with the API's statement timeout and deadline.
    const sweeperDb = connect({ ...testDatabase(), max: 2, timeouts: API_TIMEOUTS });
    let classifier: { release(): Promise<void> } | undefined;
    // As the classifier does once a message arrives: it locks the threads' rows to write their
    // labels. This one holds them until the run has ended.
    const backfillQueue: ClassificationQueue = {
      async send(requests) {
        await new SqsClassificationQueue(testSqs, backfill.queueUrl).send(requests);
        classifier = await holdRows(requests.map((r) => r.threadId));
      },
    };
    try {
      const result = await sweep(
        {
          labels: new LabelsRepository(sweeperDb.db),
          queue: new SqsClassificationQueue(testSqs, live.queueUrl),
          backfillQueue,
        },
        { graceSeconds: 300, lookbackHours: 24, maxThreads: 1_000 },
      );
      expect(result.requeued).toBeGreaterThanOrEqual(3 * LIVE_RESENDS_PER_PROJECT);
    } finally {
      await classifier?.release();
      await sweeperDb.close();
    }
    const toBackfill = (await drainRequests(backfill.queueUrl)).filter((r) => project.ids.has(r.threadId));
    expect(toBackfill).toHaveLength(2 * LIVE_RESENDS_PER_PROJECT);
    // And marked as waiting on the backfill queue: not due again twice the grace period later.
    await db.execute(sql`
      update threads set classification_requested_at = classification_requested_at - interval '600 seconds'
      where project_id = ${project.projectId}::uuid`);
    const due = new Set((await new LabelsRepository(db).dueForSweep(300, 24, 1_000)).map((d) => d.id));
    expect(toBackfill.some((r) => due.has(r.threadId))).toBe(false);
  });
});

describe("marking threads as sent (markRequested)", () => {
  // PGlite serves one session at a time: there, any statement of a second session waits for the
  // first's transaction to end. CI runs this file on a real Postgres too.
  it.skipIf(testDatabase().embedded)("skips a row the classifier is writing instead of waiting for it", async () => {
    const project = await projectWithDueThreads("mark-racing", 2);
    const [writing, free] = [...project.ids];
    const marker = connect({ ...testDatabase(), max: 1, timeouts: API_TIMEOUTS });
    const classifier = await holdRows([writing as string]);
    try {
      await new LabelsRepository(marker.db).markRequested([writing as string, free as string], "backfill");
    } finally {
      await classifier.release();
      await marker.close();
    }
    const rows = await db
      .select({ id: threads.id, due: sql<boolean>`${threads.classificationRequestedAt} < now()` })
      .from(threads)
      .where(inArray(threads.id, [writing as string, free as string]));
    expect(Object.fromEntries(rows.map((r) => [r.id, r.due]))).toEqual({
      [writing as string]: true,
      [free as string]: false,
    });
  });
});

describe("sweeper: a backfill queue that refuses the send", () => {
  it("fails the run and leaves the backlog due after the grace period, not a day later", async () => {
    const project = await projectWithDueThreads("sweep-refused", 3 * LIVE_RESENDS_PER_PROJECT);
    const live = await createTestQueue("sweep-refused-live");
    const labels = new LabelsRepository(db);
    const deps = {
      labels,
      queue: new SqsClassificationQueue(testSqs, live.queueUrl),
      // A queue that does not exist: SQS refuses every send to it.
      backfillQueue: new SqsClassificationQueue(testSqs, `${live.queueUrl}-missing`),
    };
    const options = { graceSeconds: 300, lookbackHours: 24, maxThreads: 1_000 };
    await expect(sweep(deps, options)).rejects.toThrow();
    const sentLive = (await drainRequests(live.queueUrl)).filter((r) => project.ids.has(r.threadId));
    expect(sentLive).toHaveLength(LIVE_RESENDS_PER_PROJECT);

    // Right after the run none is due; twice the grace period later, every one of them is.
    const dueOfProject = async () =>
      (await labels.dueForSweep(options.graceSeconds, 24, 1_000)).filter((d) => project.ids.has(d.id));
    expect(await dueOfProject()).toEqual([]);
    await db.execute(sql`
      update threads set classification_requested_at = classification_requested_at - make_interval(secs => ${2 * options.graceSeconds})
      where project_id = ${project.projectId}::uuid`);
    expect(await dueOfProject()).toHaveLength(3 * LIVE_RESENDS_PER_PROJECT);
  });
});

describe("sweeper: a deleted category's threads, relabelled through the backfill queue", () => {
  it("are left to that queue once it has them, and due again after the grace period if it refused them", async () => {
    const labels = new LabelsRepository(db);
    const deletedCategoryOf = async (label: string) => {
      const project = await projectWithDueThreads(label, 20);
      // The sweeper serves projects that still have a category: one is kept.
      const [category] = await db
        .insert(categories)
        .values([
          { projectId: project.projectId, name: `${label} doomed` },
          { projectId: project.projectId, name: `${label} kept` },
        ])
        .returning({ id: categories.id });
      await db.execute(sql`
        update threads set category_id = ${category?.id}::uuid, category_source = 'classifier', classified_at = now()
        where project_id = ${project.projectId}::uuid`);
      await db
        .update(categories)
        .set({ deletedAt: new Date() })
        .where(eq(categories.id, category?.id as string));
      return project;
    };
    const relabel = (projectId: string, backfillUrl: string) =>
      relabelDeletedCategories(
        { unlabel: new UnlabelRepository(db), backfillQueue: new SqsClassificationQueue(testSqs, backfillUrl) },
        { deadline: Date.now() + 60_000, projectIds: [projectId] },
      );
    const dueAfter = async (project: { projectId: string; ids: Set<string> }, seconds: number) => {
      await db.execute(sql`
        update threads set classification_requested_at = classification_requested_at - make_interval(secs => ${seconds})
        where project_id = ${project.projectId}::uuid`);
      return (await labels.dueForSweep(300, 24, 1_000)).filter((d) => project.ids.has(d.id));
    };

    const sent = await deletedCategoryOf("relabel-sent");
    const backfill = await createTestQueue("relabel-backfill");
    expect((await relabel(sent.projectId, backfill.queueUrl)).unlabelled).toBe(20);
    expect(await drainRequests(backfill.queueUrl)).toHaveLength(20);
    expect(await dueAfter(sent, 600)).toEqual([]);

    // A queue that refuses the send (it does not exist): the threads are due after the grace period.
    const refused = await deletedCategoryOf("relabel-refused");
    expect((await relabel(refused.projectId, `${backfill.queueUrl}-missing`)).unlabelled).toBe(20);
    expect(await dueAfter(refused, 600)).toHaveLength(20);
  });
});
