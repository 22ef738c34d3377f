import { and, eq, gt, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { seedThreads } from "../../shared/admin/seed.js";
import { getJob, startJob } from "../../shared/backfill/service.js";
import { runtime } from "../../shared/composition/runtime.js";
import { threads } from "../../shared/db/schema.js";
import { executionOf, startTestBackfill, type TestBackfill } from "../support/backfill.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { eventually } from "../support/sqs.js";

/**
 * Live threads keep their pace while a backfill runs: the classifier drains the backfill queue
 * through its own capped event source (2 x 10 messages here, 200 ms each: 100 threads/s at
 * most), and the live queue through another, so a new thread does not wait behind the backlog.
 */

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();
let backfill: TestBackfill;

beforeAll(async () => {
  backfill = await startTestBackfill({
    // The template's backfill event source is capped at 2, the lowest cap AWS takes.
    consumers: ["classifier"],
    localEnv: { CLASSIFIER_DELAY_MS: "200" },
  });
  // The chat below runs in this process: it sends to the world's live queue, as the chat function does.
  backfill.actAs("chat");
});
afterAll(() => backfill.stop());

// Act and assess -----------------------------------------------------------------------------

it("labels a new thread ahead of the backfill's backlog", async () => {
  const tenant = await createTenant(db, "live");
  await seedThreads(db, { count: 600, projects: 0, projectIds: [tenant.projectId] });
  const deps = await runtime();
  const job = await startJob(
    { threads: deps.backfill, executions: deps.backfillExecutions },
    { projectId: tenant.projectId, scope: "unlabelled" },
  );
  expect((await executionOf(backfill, job)).status).toBe("SUCCEEDED");

  const chat = await invoke("chat", tenant, { body: { question: "How do I rotate my API key?" } });
  expect(chat.status).toBe(200);
  const threadId = String(chat.body.thread_id);
  await eventually(async () => {
    const [row] = await db.select({ source: threads.categorySource }).from(threads).where(eq(threads.id, threadId));
    return row?.source === "classifier" ? true : undefined;
  }, 10_000);

  const finished = await eventually(async () => {
    const current = await getJob(
      { threads: deps.backfill, executions: deps.backfillExecutions },
      tenant.projectId,
      job.id,
    );
    return current.status === "done" ? current : undefined;
  }, 30_000);
  expect(finished.progress).toMatchObject({ pending: 0, done: 601 });

  // Sent with a 2 s delay (the thread is stored meanwhile), then classified ahead of the backlog:
  // the backfill's batches (10 threads each, two at a time) labelled at least ten of theirs after
  // it, so it did not wait for the backfill to finish. Ordered by the labels' own timestamps.
  const [after] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(threads)
    .where(
      and(
        eq(threads.projectId, tenant.projectId),
        gt(threads.classifiedAt, sql`(select classified_at from threads where id = ${threadId})`),
      ),
    );
  expect(after?.n).toBeGreaterThanOrEqual(100);
}, 60_000);
