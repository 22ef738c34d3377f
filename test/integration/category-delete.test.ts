import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { relabelDeletedCategories } from "../../shared/categories/relabel.js";
import { UnlabelRepository } from "../../shared/categories/unlabel.js";
import type { Classifier } from "../../shared/classification/classifier.js";
import { localClassifier } from "../../shared/classification/providers.js";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { classifyBatch } from "../../shared/classification/service.js";
import { connect, type Db } from "../../shared/db/client.js";
import { API_TIMEOUTS } from "../../shared/db/deadline.js";
import { classifyDbError } from "../../shared/db/errors.js";
import { categories, threads } from "../../shared/db/schema.js";
import { testDatabase } from "../support/database.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { labelHistoryProblems } from "../support/label-history.js";
import { createTestQueue, drainBodies, drainRequests, eventually, testSqs } from "../support/sqs.js";

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();
const database = testDatabase();
const liveQueue = process.env.CLASSIFICATION_QUEUE_URL as string;

/** A statement timeout far below what one statement over the whole category takes on Postgres. */
const SHORT_STATEMENT_MS = 250;
/** On Postgres, enough threads that unlabelling them in one statement exceeds it. */
const THREADS = database.embedded ? 3_000 : 30_000;
/** The first batch size; a batch that times out on a busy machine is halved (shared/categories/relabel.ts). */
const BATCH = 100;

const short = connect({ ...database, max: 2, timeouts: { ...API_TIMEOUTS, statementTimeoutMs: SHORT_STATEMENT_MS } });
afterAll(() => short.close());

type CategoryBody = { id: string; name: string };

async function categoriesOf(t: Tenant): Promise<CategoryBody[]> {
  return (await invoke("listCategories", t)).body.results as CategoryBody[];
}

/** Thread counts per label from the rows, and from the analytics rollup (its daily grain): they must agree. */
async function labelCounts(database: Db, projectId: string) {
  const key = (r: { category_id: string | null; category_source: string | null; n: string | number }) =>
    `${r.category_id ?? "-"}/${r.category_source ?? "-"}=${Number(r.n)}`;
  const rows = await database.execute<{ category_id: string | null; category_source: string | null; n: string }>(sql`
    select category_id, category_source, count(*) as n from threads where project_id = ${projectId}::uuid
    group by 1, 2 order by 1, 2`);
  const rollup = await database.execute<{ category_id: string | null; category_source: string | null; n: string }>(sql`
    select category_id, category_source, sum(threads) as n from thread_rollups
    where project_id = ${projectId}::uuid and grain_minutes = 1440
    group by 1, 2 having sum(threads) > 0 order by 1, 2`);
  return { rows: rows.map(key).sort(), rollup: rollup.map(key).sort() };
}

/** Runs the deleted categories' unlabelling of these projects to the end, on the short-timeout connection. */
async function unlabelAll(projectIds: string[], backfillUrl: string) {
  const unlabel = new UnlabelRepository(short.db);
  const backfillQueue = new SqsClassificationQueue(testSqs, backfillUrl);
  const totals = { unlabelled: 0, finished: 0, runs: 0 };
  for (;;) {
    const run = await relabelDeletedCategories(
      { unlabel, backfillQueue },
      { deadline: Date.now() + 5_000, batchSize: BATCH, projectIds },
    );
    totals.unlabelled += run.unlabelled;
    totals.finished += run.finished;
    totals.runs++;
    if (run.pending === 0) return totals;
  }
}

/** The classifier, driven over the backfill queue's messages as its Lambda would be (batches, retries). */
async function classifyQueued(backfillUrl: string, classifier: Classifier = localClassifier()) {
  const labels = new LabelsRepository(db);
  const bodies = await drainBodies(backfillUrl);
  for (let i = 0; i < bodies.length; i += 100) {
    const batch = bodies.slice(i, i + 100).map((body, j) => ({ messageId: `m${i + j}`, body, sentAt: Date.now() }));
    expect(await classifyBatch({ labels, classifier }, batch)).toEqual([]);
  }
  return bodies.map((b) => JSON.parse(b) as { threadId: string; projectId?: string; reason: string });
}

interface BigCategory {
  doomed: string;
  kept: string;
  ids: string[];
  userOnDoomed: string[];
  userOnKept: string[];
  /** Threads labelled with the doomed category. */
  inDoomed: number;
}

/** THREADS threads labelled with Discovery (by the classifier; 20 by users), 20 more by users with Troubleshooting. */
async function bigCategory(noisy: Tenant): Promise<BigCategory> {
  const [discovery, troubleshooting] = await categoriesOf(noisy);
  const doomed = discovery?.id as string;
  const kept = troubleshooting?.id as string;
  await seedThreads(db, { count: THREADS, projects: 0, projectIds: [noisy.projectId], chunk: 10_000 });
  await db.execute(sql`
      update threads set category_id = ${doomed}::uuid, category_source = 'classifier', classified_at = now()
      where project_id = ${noisy.projectId}::uuid`);
  // A user's label on the deleted category goes too; a user's label on another category stays.
  const ids = (await db.select({ id: threads.id }).from(threads).where(eq(threads.projectId, noisy.projectId)))
    .map((r) => r.id)
    .sort();
  const userOnDoomed = ids.slice(0, 20);
  const userOnKept = ids.slice(20, 40);
  await db.update(threads).set({ categorySource: "user" }).where(inArray(threads.id, userOnDoomed));
  await db.update(threads).set({ categoryId: kept, categorySource: "user" }).where(inArray(threads.id, userOnKept));
  const inDoomed = THREADS - userOnKept.length;
  return { doomed, kept, ids, userOnDoomed, userOnKept, inDoomed };
}

/** The size is real: the old way (one statement over every thread) fails on the short timeout. */
async function expectOneStatementTimesOut(projectId: string, doomed: string) {
  const oneStatement = short.db.transaction((tx) =>
    tx.execute(sql`update threads set category_id = null, category_source = null
          where project_id = ${projectId}::uuid and category_id = ${doomed}::uuid`),
  );
  const refused = await oneStatement.then(() => null).catch((error: unknown) => error);
  expect(classifyDbError(refused)?.code).toBe("57014"); // query_canceled: the statement timeout
}

/** Gone from the API at once, although every thread still points at it in the table. */
async function expectGoneFromTheApi(noisy: Tenant, big: BigCategory) {
  const { doomed, kept, userOnDoomed, userOnKept, inDoomed } = big;
  expect((await categoriesOf(noisy)).map((c) => c.name)).toEqual(["Troubleshooting"]);
  const detail = await invoke("getThread", noisy, { params: { thread_id: userOnDoomed[0] as string } });
  expect(detail.body.category).toBeNull();
  const byDoomed = await invoke("listThreads", noisy, { query: { category: doomed, limit: "5" } });
  expect([byDoomed.status, byDoomed.body.count]).toEqual([200, 0]);
  const byUser = await invoke("listThreads", noisy, { query: { source: "user", limit: "100" } });
  expect((byUser.body.results as { id: string }[]).map((r) => r.id).sort()).toEqual(userOnKept);
  const page = await invoke("listThreads", noisy, { query: { limit: "1000" } });
  for (const row of page.body.results as { category: { id: string } | null }[]) {
    expect(row.category?.id).not.toBe(doomed);
  }
  const stats = await invoke("categoryStats", noisy);
  expect(stats.body).toMatchObject({ total: THREADS, unlabelled: inDoomed, by_source: { user: userOnKept.length } });
  expect((stats.body.categories as CategoryBody[]).map((c) => c.id)).toEqual([kept]);
  const trends = await invoke("categoryTrends", noisy, { query: { interval: "month" } });
  const buckets = trends.body.buckets as { unlabelled: number; categories: CategoryBody[] }[];
  expect(buckets.reduce((n, b) => n + b.unlabelled, 0)).toBe(inDoomed);
  expect(buckets.flatMap((b) => b.categories.map((c) => c.id)).filter((id) => id === doomed)).toEqual([]);
  // Refused as a new label; its name is free again; a second delete is a 404.
  const relabel = await invoke("updateThread", noisy, {
    params: { thread_id: userOnKept[0] as string },
    body: { category_id: doomed },
  });
  expect(relabel.status).toBe(400);
  expect((await invoke("deleteCategory", noisy, { params: { category_id: doomed } })).status).toBe(404);
  const renamed = await invoke("createCategory", noisy, { body: { name: "Discovery", description: "again" } });
  expect(renamed.status).toBe(201);
}

// Act and assess -----------------------------------------------------------------------------

describe("DELETE categories/{id}/ of a big category", () => {
  it("answers 204 at once, hides the category everywhere, then unlabels in short statements and relabels through the backfill queue", {
    timeout: 600_000,
  }, async () => {
    const noisy = await createTenant(db, "delete-noisy");
    const quiet = await createTenant(db, "delete-quiet");
    const big = await bigCategory(noisy);
    const { doomed, kept, ids, userOnKept, inDoomed } = big;
    if (!database.embedded) await expectOneStatementTimesOut(noisy.projectId, doomed);
    await drainRequests(liveQueue);

    const deleted = await invoke("deleteCategory", noisy, { params: { category_id: doomed } });
    expect(deleted.status).toBe(204);

    await expectGoneFromTheApi(noisy, big);
    // The quiet project's new thread goes to the live queue meanwhile, as always.
    const quietThread = (await invoke("chat", quiet, { body: { question: "How do I start?" } })).body.thread_id;

    const backfill = await createTestQueue("delete-backfill");
    const done = await unlabelAll([noisy.projectId, quiet.projectId], backfill.queueUrl);
    expect(done).toMatchObject({ unlabelled: inDoomed, finished: 1 });
    expect(await db.select().from(categories).where(eq(categories.id, doomed))).toEqual([]);
    const counts = await labelCounts(db, noisy.projectId);
    expect(counts.rollup).toEqual(counts.rows);

    // Live queue: the quiet project's thread, none of the noisy project's relabelling.
    const live = await drainRequests(liveQueue, 3_000);
    const noisyIds = new Set(ids);
    expect(live.filter((r) => noisyIds.has(r.threadId))).toEqual([]);
    expect(live.map((r) => r.threadId)).toContain(quietThread);

    // Backfill queue: each of the deleted category's threads once; the classifier relabels them.
    const sent = await classifyQueued(backfill.queueUrl);
    expect(sent).toHaveLength(inDoomed);
    expect(new Set(sent.map((r) => r.threadId)).size).toBe(inDoomed);
    expect(new Set(sent.map((r) => `${r.projectId}/${r.reason}`))).toEqual(
      new Set([`${noisy.projectId}/category-deleted`]),
    );
    const after = await db
      .select({ id: threads.id, categoryId: threads.categoryId, source: threads.categorySource })
      .from(threads)
      .where(eq(threads.projectId, noisy.projectId));
    const remaining = new Set((await categoriesOf(noisy)).map((c) => c.id));
    expect(after.filter((t) => !t.categoryId || !remaining.has(t.categoryId))).toEqual([]);
    expect(after.filter((t) => userOnKept.includes(t.id)).map((t) => [t.categoryId, t.source])).toEqual(
      userOnKept.map(() => [kept, "user"]),
    );
    expect(after.filter((t) => t.source === "user")).toHaveLength(userOnKept.length);
    const relabelled = await labelCounts(db, noisy.projectId);
    expect(relabelled.rollup).toEqual(relabelled.rows);
  });
});

describe("deleting a category while it is being labelled", () => {
  it("writes no label to it once the DELETE has answered, and every thread ends up in a remaining category", async () => {
    const t = await createTenant(db, "delete-race");
    const [discovery, troubleshooting] = await categoriesOf(t);
    const doomed = discovery?.id as string;
    await seedThreads(db, { count: 400, projects: 0, projectIds: [t.projectId], chunk: 400 });
    const ids = (await db.select({ id: threads.id }).from(threads).where(eq(threads.projectId, t.projectId))).map(
      (r) => r.id,
    );
    await recordLabelWrites();
    try {
      // The model (an outside service, so a stand-in) always picks the category being deleted.
      const picksDoomed: Classifier = {
        classify: async (_q, options) => ({
          categoryId: (options.find((o) => o.id === doomed) ?? options[0])?.id as string,
          confidence: 1,
          rationale: "The stand-in always picks the category being deleted.",
        }),
      };
      const labels = new LabelsRepository(db);
      const messages = ids.map((id, i) => ({
        messageId: `r${i}`,
        body: JSON.stringify({ threadId: id, projectId: t.projectId, reason: "new-thread" }),
        sentAt: Date.now(),
      }));
      const retry: string[] = [];
      const classifying = (async () => {
        for (let i = 0; i < messages.length; i += 10) {
          const batch = messages.slice(i, i + 10);
          const failed = await classifyBatch({ labels, classifier: picksDoomed }, batch);
          retry.push(...batch.filter((m) => failed.includes(m.messageId)).map((m) => m.body));
        }
      })();
      const users = Promise.all(
        ids
          .slice(0, 40)
          .map((id) => invoke("updateThread", t, { params: { thread_id: id }, body: { category_id: doomed } })),
      );
      // Once some labels have landed, the category is deleted in the middle of the stream.
      await waitForLabels(t.projectId, 50);
      expect((await invoke("deleteCategory", t, { params: { category_id: doomed } })).status).toBe(204);
      const [marker] = await db.execute<{ answered: string }>(sql`select clock_timestamp() as answered`);
      const answered = marker?.answered as string;
      await classifying;
      for (const reply of await users) expect([200, 400]).toContain(reply.status);

      const late = await db.execute(sql`
        select 1 from test_delete_race_writes where category_id = ${doomed}::uuid and at > ${answered}::timestamptz`);
      expect(late).toHaveLength(0);

      // What did land on it is unlabelled and relabelled; the messages that lost to the delete are retried.
      const backfill = await createTestQueue("race-backfill");
      await unlabelAll([t.projectId], backfill.queueUrl);
      await new SqsClassificationQueue(testSqs, backfill.queueUrl).send(
        retry.map((body) => JSON.parse(body) as { threadId: string; projectId: string; reason: "new-thread" }),
      );
      await classifyQueued(backfill.queueUrl, picksDoomed);
      const after = await db
        .select({ categoryId: threads.categoryId })
        .from(threads)
        .where(and(eq(threads.projectId, t.projectId)));
      expect(after.map((r) => r.categoryId)).toEqual(ids.map(() => troubleshooting?.id));
      // Each label written, unlabelled by the deletion (system) and written again has its entry, in order.
      expect(await labelHistoryProblems(db, ids)).toEqual([]);
      const [system] = await db.execute<{ n: number }>(sql`
        select count(*)::int as n from thread_label_changes
        where thread_id = any(${`{${ids.join(",")}}`}::uuid[]) and source = 'system' and actor = 'category_deleted'`);
      expect(system?.n).toBeGreaterThan(0);
    } finally {
      await db.execute(sql`drop trigger if exists test_delete_race_writes on threads`);
    }
  });
});

/** Records in test_delete_race_writes every label write to a thread, with its time (dropped in the test's finally). */
async function recordLabelWrites() {
  await db.execute(
    sql`create table if not exists test_delete_race_writes (thread_id uuid, category_id uuid, at timestamptz)`,
  );
  await db.execute(sql`
    create or replace function test_delete_race_write() returns trigger language plpgsql as $$
    begin insert into test_delete_race_writes values (new.id, new.category_id, clock_timestamp()); return new; end $$`);
  await db.execute(sql`drop trigger if exists test_delete_race_writes on threads`);
  await db.execute(sql`
    create trigger test_delete_race_writes after update on threads for each row
    when (new.category_id is not null and new.category_id is distinct from old.category_id)
    execute function test_delete_race_write()`);
}

function waitForLabels(projectId: string, atLeast: number) {
  return eventually(
    async () => {
      const [row] = await db.execute<{ n: string }>(
        sql`select count(*) as n from threads where project_id = ${projectId}::uuid and category_id is not null`,
      );
      return Number(row?.n) >= atLeast ? true : undefined;
    },
    300_000,
    20,
  );
}
