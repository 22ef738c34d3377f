import { asc, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { UnlabelRepository } from "../../shared/categories/unlabel.js";
import { localClassifier } from "../../shared/classification/providers.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { classifyBatch } from "../../shared/classification/service.js";
import { labelExamples } from "../../shared/db/label-schema.js";
import { categories, threads } from "../../shared/db/schema.js";
import { EXAMPLES_PER_CATEGORY, loadExamples } from "../../shared/labels/examples.js";
import { ThreadsRepository } from "../../shared/threads/repository.js";
import { createTenant, insertThreads, type Tenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";

const db = useTestDb();
const threadsRepo = new ThreadsRepository(db);
const labels = new LabelsRepository(db);

/** A tenant with only the given categories (no defaults), and their ids by name. */
async function tenantWith(names: string[]): Promise<{ t: Tenant; ids: Record<string, string> }> {
  const t = await createTenant(db);
  await db.delete(categories).where(eq(categories.projectId, t.projectId));
  const ids: Record<string, string> = {};
  for (const name of names) {
    const reply = await invoke("createCategory", t, { body: { name, description: `Questions about ${name}.` } });
    expect(reply.status).toBe(201);
    ids[name] = reply.body.id as string;
  }
  return { t, ids };
}

const seedThreads = (projectId: string, questions: string[]) => insertThreads(db, projectId, questions);

const label = (t: Tenant, threadId: string, categoryId: string | null) =>
  invoke("updateThread", t, { params: { thread_id: threadId }, body: { category_id: categoryId } });

async function examplesOf(threadIds: string[]) {
  return db
    .select()
    .from(labelExamples)
    .where(inArray(labelExamples.threadId, threadIds))
    .orderBy(asc(labelExamples.createdAt));
}

describe("corrections become examples", () => {
  it("a user label makes the first question an example, which moves with a relabel and goes with the label", async () => {
    const { t, ids } = await tenantWith(["Billing", "Shipping"]);
    const [thread] = await seedThreads(t.projectId, ["Why was I charged twice this month?"]);
    const id = thread as string;

    expect((await label(t, id, ids.Billing as string)).status).toBe(200);
    expect(await examplesOf([id])).toMatchObject([
      { categoryId: ids.Billing, question: "Why was I charged twice this month?" },
    ]);

    expect((await label(t, id, ids.Shipping as string)).status).toBe(200);
    expect(await examplesOf([id])).toMatchObject([{ categoryId: ids.Shipping }]);

    const renamed = await invoke("updateCategory", t, {
      params: { category_id: ids.Shipping as string },
      body: { name: "Delivery" },
    });
    expect(renamed.status).toBe(200);
    expect(await examplesOf([id])).toMatchObject([{ categoryId: ids.Shipping }]);

    expect((await label(t, id, null)).status).toBe(200);
    expect(await examplesOf([id])).toEqual([]);
  });

  it("a label the API refuses (another project's category) writes no example", async () => {
    const { t } = await tenantWith(["Billing"]);
    const other = await tenantWith(["Elsewhere"]);
    const [id] = await seedThreads(t.projectId, ["A question"]);
    expect((await label(t, id as string, other.ids.Elsewhere as string)).status).toBe(400);
    expect(await examplesOf([id as string])).toEqual([]);
  });

  it("keeps the newest examples of a category, and the other categories' untouched", async () => {
    const { t, ids } = await tenantWith(["Billing", "Shipping"]);
    const billing = ids.Billing as string;
    const extra = 5;
    const many = await seedThreads(
      t.projectId,
      Array.from({ length: EXAMPLES_PER_CATEGORY + extra }, (_, i) => `Billing question ${i}`),
    );
    const [shipped] = await seedThreads(t.projectId, ["Where is my parcel?"]);
    expect(await threadsRepo.setUserLabel(t.projectId, shipped as string, ids.Shipping as string, t.apiKeyId)).toBe(
      true,
    );
    for (const id of many) expect(await threadsRepo.setUserLabel(t.projectId, id, billing, t.apiKeyId)).toBe(true);

    const kept = await db.select().from(labelExamples).where(eq(labelExamples.categoryId, billing));
    expect(kept).toHaveLength(EXAMPLES_PER_CATEGORY);
    const keptIds = new Set(kept.map((e) => e.threadId));
    expect(keptIds).toContain(many.at(-1));
    expect(keptIds).not.toContain(many[0]);
    expect(await examplesOf([shipped as string])).toHaveLength(1);
  });

  it("a deleted category's examples are never used, and go with its row", async () => {
    const { t, ids } = await tenantWith(["Billing", "Shipping"]);
    const [a, b] = await seedThreads(t.projectId, ["Why was I charged twice?", "Where is my parcel?"]);
    expect((await label(t, a as string, ids.Billing as string)).status).toBe(200);
    expect((await label(t, b as string, ids.Shipping as string)).status).toBe(200);
    // Through the classifier's per-process cache, which must notice the deletion.
    expect((await labels.examplesFor([t.projectId])).get(t.projectId)).toHaveLength(2);

    expect((await invoke("deleteCategory", t, { params: { category_id: ids.Billing as string } })).status).toBe(204);
    const only = [{ categoryId: ids.Shipping, question: "Where is my parcel?" }];
    expect((await loadExamples(db, [t.projectId])).get(t.projectId)).toEqual(only);
    expect((await labels.examplesFor([t.projectId])).get(t.projectId)).toEqual(only);

    const unlabel = new UnlabelRepository(db);
    const [deletion] = await unlabel.pendingDeletions(10, [t.projectId]);
    expect(deletion?.id).toBe(ids.Billing);
    expect(await unlabel.finish(deletion as NonNullable<typeof deletion>, 500)).toMatchObject({ finished: true });
    expect(await examplesOf([a as string, b as string])).toMatchObject([{ threadId: b }]);
  });
});

describe("the classifier learns from corrections", () => {
  it("a corrected question steers new threads, and follows its example when relabelled", async () => {
    // Two categories the question's words say nothing about: only the example can decide.
    const { t, ids } = await tenantWith(["Alpha", "Beta"]);
    const [taught] = await seedThreads(t.projectId, ["How do I reset my password?"]);
    const classifyNew = async (question: string) => {
      const [id] = await seedThreads(t.projectId, [question]);
      const body = JSON.stringify({ threadId: id, reason: "new-thread" });
      const failed = await classifyBatch({ labels, classifier: localClassifier(), recheckMissingAfterMs: [] }, [
        { messageId: `m-${id}`, body, sentAt: Date.now() },
      ]);
      expect(failed).toEqual([]);
      const [row] = await db
        .select({ categoryId: threads.categoryId })
        .from(threads)
        .where(eq(threads.id, id as string));
      return row?.categoryId;
    };

    expect((await label(t, taught as string, ids.Beta as string)).status).toBe(200);
    expect(await classifyNew("I forgot my password, how can I reset it?")).toBe(ids.Beta);

    expect((await label(t, taught as string, ids.Alpha as string)).status).toBe(200);
    expect(await classifyNew("Resetting a forgotten password")).toBe(ids.Alpha);
  });
});
