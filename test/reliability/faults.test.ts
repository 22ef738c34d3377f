import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../local/gateway.js";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { sweep } from "../../shared/classification/sweeper.js";
import { runtime } from "../../shared/composition/runtime.js";
import { questionAnswers, threads } from "../../shared/db/schema.js";
import { createSqsClient } from "../../shared/platform/sqs-eager-client.js";
import { createTenant, useTestDb } from "../support/db.js";
import { type HttpReply, startTestGateway } from "../support/http.js";
import { eventually, testSqs } from "../support/sqs.js";
import { startTestWorld, type TestWorld } from "../support/world.js";

/**
 * The queue is unreachable while users chat: every chat still answers and stores its thread, and
 * the sweeper sends the threads to the classifier once the queue is back; every thread ends up
 * labelled, none is lost or stored twice.
 */
const db = useTestDb();
let gateway: Gateway;
let call: (method: string, path: string, options?: { key?: string; body?: string }) => Promise<HttpReply>;
let world: TestWorld;

beforeAll(async () => {
  // The world's classifier on its live queue, with the template's timings (nothing here is meant
  // to fail and come back); the chat runs in this process, where the test breaks its queue.
  world = await startTestWorld({ label: "faults", consumers: ["classifier:ClassificationQueueUrl"] });
  ({ gateway, call } = await startTestGateway());
});
afterAll(async () => {
  await gateway.close();
  await world.stop();
});

describe("the queue unreachable during chat", () => {
  it("answers every chat, and the sweeper gets every thread labelled once the queue is back", {
    timeout: 60_000,
  }, async () => {
    const tenant = await createTenant(db, "faults");
    const rt = await runtime();
    const working = rt.classificationQueue;
    const live = new SqsClassificationQueue(testSqs, world.queueUrl("ClassificationQueueUrl"));
    // Nothing listens on port 9: every send fails to connect.
    const unreachable = createSqsClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
    rt.classificationQueue = new SqsClassificationQueue(unreachable, world.queueUrl("ClassificationQueueUrl"));
    let replies: HttpReply[];
    try {
      replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call("POST", `/query/v1/projects/${tenant.projectId}/chat`, {
            key: tenant.apiKey,
            body: JSON.stringify({ question: `Question ${i} while the queue is down` }),
          }),
        ),
      );
    } finally {
      rt.classificationQueue = working;
    }
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
    const ids = replies.map((r) => r.json?.thread_id as string);
    const stored = await db
      .select({ id: threads.id, categoryId: threads.categoryId })
      .from(threads)
      .where(inArray(threads.id, ids));
    expect(stored).toHaveLength(20);
    expect(stored.every((t) => t.categoryId === null)).toBe(true);

    // The queue is back; a sweeper run with no grace period (AWS: 5 min) sends them. The suite's
    // files share one database, and the sweeper takes the oldest due threads first: with a cap
    // of 1,000 the thousands of unlabelled threads the database-fault tests leave behind filled
    // the run and these 20 were never sent (the test timed out in CI). So: every due thread.
    const swept = await sweep(
      { labels: rt.labels, queue: live, backfillQueue: live },
      { graceSeconds: 0, lookbackHours: 24, maxThreads: 1_000_000 },
    );
    expect(swept.requeued).toBeGreaterThanOrEqual(20);
    await eventually(async () => {
      const rows = await db.select({ categoryId: threads.categoryId }).from(threads).where(inArray(threads.id, ids));
      return rows.every((t) => t.categoryId !== null) ? true : undefined;
    }, 30_000);
    for (const id of ids) {
      const answers = await db.select().from(questionAnswers).where(eq(questionAnswers.threadId, id));
      expect(answers).toHaveLength(1);
    }
  });
});
