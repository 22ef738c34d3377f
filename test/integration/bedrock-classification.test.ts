import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CategoriesRepository } from "../../shared/categories/repository.js";
import { bedrockClassifier } from "../../shared/classification/bedrock/classifier.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { type ClassificationMessage, classifyBatch } from "../../shared/classification/service.js";
import { threads } from "../../shared/db/schema.js";
import { type ConverseStandIn, startConverseStandIn } from "../support/bedrock.js";
import { createTenant, useTestDb } from "../support/db.js";

/**
 * The classifier's batch with the bedrock provider, against the stand-in of the Converse endpoint:
 * what a failed call does to the message (it goes back to the queue) and to the thread (nothing).
 */
const db = useTestDb();
const labels = new LabelsRepository(db);
const categoriesRepo = new CategoriesRepository(db);

let standIn: ConverseStandIn;
beforeAll(async () => {
  standIn = await startConverseStandIn();
});
afterAll(() => standIn.close());

const classifier = () =>
  bedrockClassifier({
    modelId: "anthropic.claude-3-haiku-20240307-v1:0",
    timeoutMs: 300,
    client: standIn.clientConfig(),
  });

async function newThread(question: string) {
  const tenant = await createTenant(db);
  const [row] = await db
    .insert(threads)
    .values({ projectId: tenant.projectId, firstQuestion: question })
    .returning({ id: threads.id });
  return { id: row?.id as string, categories: await categoriesRepo.list(tenant.projectId) };
}

let sent = 0;
const message = (threadId: string): ClassificationMessage => ({
  messageId: `bedrock-${++sent}`,
  body: JSON.stringify({ threadId, reason: "new-thread" }),
  sentAt: Date.now(),
});

const labelOf = async (threadId: string) =>
  (
    await db
      .select({
        categoryId: threads.categoryId,
        confidence: threads.categoryConfidence,
        source: threads.categorySource,
      })
      .from(threads)
      .where(eq(threads.id, threadId))
  )[0];

describe("the classifier pipeline with the bedrock provider", () => {
  it("hands a throttled, timed-out or malformed answer's message back to the queue and labels nothing, then labels on redelivery", async () => {
    const thread = await newThread("The deploy fails with a timeout error");
    const [first, second] = thread.categories;
    const deps = { labels, classifier: classifier(), recheckMissingAfterMs: [] };
    const failures = [
      { error: "ThrottlingException", status: 429 },
      "hang",
      { label: { category_id: "not-a-category-of-this-project", confidence: 0.9, rationale: "Wrong." } },
      { text: "Troubleshooting" },
    ] as const;
    for (const failure of failures) {
      standIn.reply(failure);
      const m = message(thread.id);
      expect(await classifyBatch(deps, [m]), JSON.stringify(failure)).toEqual([m.messageId]);
      expect(await labelOf(thread.id)).toMatchObject({ categoryId: null });
    }
    // The redelivery after the model recovered: labelled with what it chose.
    standIn.reply({ label: { category_id: second?.id, confidence: 0.77, rationale: "It fails." } });
    expect(await classifyBatch(deps, [message(thread.id)])).toEqual([]);
    expect(await labelOf(thread.id)).toEqual({ categoryId: second?.id, confidence: 0.77, source: "classifier" });
    expect(first?.id).not.toBe(second?.id);
  });
});
