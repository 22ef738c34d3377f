import { describe, expect, it } from "vitest";
import { localClassifier } from "../../shared/classification/providers.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { classifyBatch } from "../../shared/classification/service.js";
import { threads } from "../../shared/db/schema.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";

const db = useTestDb();
const labels = new LabelsRepository(db);

// Found by the outside probe on `npm start`: a new project has two categories (Discovery,
// Troubleshooting), and with two every component's z-score was -1, 0 or +1 whatever the question,
// so a question that belongs to neither got the same 0.99 as a clear case, and the review queue
// stayed empty whatever the threshold (docs/classification.md, "Why not the margin alone").
describe("confidence with a new project's two default categories", () => {
  it("a question of neither category is less confident than a clear label, and only it goes to review", async () => {
    const t = await createTenant(db);
    const questions = {
      neither: "what's the weather like tomorrow",
      clear: "My deployment fails with error 500",
    };
    const rows = await db
      .insert(threads)
      .values(Object.values(questions).map((firstQuestion) => ({ projectId: t.projectId, firstQuestion })))
      .returning({ id: threads.id, question: threads.firstQuestion });
    const idOf = (question: string) => rows.find((r) => r.question === question)?.id as string;
    const failed = await classifyBatch(
      { labels, classifier: localClassifier(), recheckMissingAfterMs: [] },
      rows.map((r) => ({
        messageId: `m-${r.id}`,
        body: JSON.stringify({ threadId: r.id, reason: "new-thread" }),
        sentAt: Date.now(),
      })),
    );
    expect(failed).toEqual([]);

    const confidenceOf = async (id: string) => {
      const reply = await invoke("getThread", t, { params: { thread_id: id } });
      expect(reply.status).toBe(200);
      return (reply.body.category as { confidence: number }).confidence;
    };
    const neither = await confidenceOf(idOf(questions.neither));
    const clear = await confidenceOf(idOf(questions.clear));
    expect(neither).toBeLessThan(clear - 0.15);

    // A threshold between the two: the review queue holds the unrelated question and not the clear label.
    const threshold = (neither + clear) / 2;
    expect((await invoke("updateProjectSettings", t, { body: { review_threshold: threshold } })).status).toBe(200);
    const review = await invoke("listThreads", t, { query: { review: "true" } });
    expect(review.status).toBe(200);
    expect((review.body.results as { id: string }[]).map((r) => r.id)).toEqual([idOf(questions.neither)]);
  });
});
