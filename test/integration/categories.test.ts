import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DEFAULT_CATEGORIES } from "../../shared/categories/defaults.js";
import { relabelDeletedCategories } from "../../shared/categories/relabel.js";
import { UnlabelRepository } from "../../shared/categories/unlabel.js";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { categories, threads } from "../../shared/db/schema.js";
import { MAX_CATEGORIES_PER_PROJECT } from "../../shared/labels/limits.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { createTestQueue, drainRequests, testSqs } from "../support/sqs.js";

const db = useTestDb();
const liveQueue = process.env.CLASSIFICATION_QUEUE_URL as string;

type CategoryBody = { id: string; name: string; description: string };

async function names(t: Tenant): Promise<string[]> {
  const list = await invoke("listCategories", t);
  return (list.body.results as CategoryBody[]).map((c) => c.name);
}

async function thread(t: Tenant, question: string): Promise<string> {
  const reply = await invoke("chat", t, { body: { question } });
  return reply.body.thread_id as string;
}

async function label(t: Tenant, threadId: string, categoryId: string | null) {
  return invoke("updateThread", t, { params: { thread_id: threadId }, body: { category_id: categoryId } });
}

describe("categories API", () => {
  it("gives every new project Discovery and Troubleshooting with their descriptions", async () => {
    const t = await createTenant(db);
    const list = await invoke("listCategories", t);
    expect(list.status).toBe(200);
    expect(list.body.results).toMatchObject(DEFAULT_CATEGORIES.map(({ name, description }) => ({ name, description })));
  });

  it("creates, renames and re-describes; names are unique per project case-insensitively", async () => {
    const t = await createTenant(db);
    const other = await createTenant(db);
    const created = await invoke("createCategory", t, {
      body: { name: "Careers", description: "Asking for open positions" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Careers", description: "Asking for open positions" });

    const duplicate = await invoke("createCategory", t, { body: { name: "  careers " } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.detail).toMatch(/already exists/);
    expect((await invoke("createCategory", other, { body: { name: "Careers" } })).status).toBe(201);

    const id = created.body.id as string;
    const renamed = await invoke("updateCategory", t, { params: { category_id: id }, body: { name: "Jobs" } });
    expect(renamed.body).toMatchObject({ id, name: "Jobs", description: "Asking for open positions" });
    const clash = await invoke("updateCategory", t, { params: { category_id: id }, body: { name: "DISCOVERY" } });
    expect(clash.status).toBe(409);
    expect(await names(t)).toEqual(["Discovery", "Jobs", "Troubleshooting"]);
  });

  it.each([
    ["an empty name", { name: " " }, /name must not be empty/],
    ["a long name", { name: "x".repeat(101) }, /at most 100/],
    ["a long description", { name: "ok", description: "x".repeat(501) }, /at most 500/],
    ["a wrong type", { name: 7 }, /name must be a string/],
    ["an unknown field", { name: "ok", color: "red" }, /color/],
  ])("rejects %s with 400", async (_what, body, detail) => {
    const t = await createTenant(db);
    const response = await invoke("createCategory", t, { body });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(detail);
  });

  it(`refuses a category past ${MAX_CATEGORIES_PER_PROJECT} with 409`, async () => {
    const t = await createTenant(db);
    await db
      .insert(categories)
      .values(
        Array.from({ length: MAX_CATEGORIES_PER_PROJECT - 2 }, (_, i) => ({ projectId: t.projectId, name: `c${i}` })),
      );
    const refused = await invoke("createCategory", t, { body: { name: "one too many" } });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/at most 100/);
  });
});

describe("categories API: across projects, renames and deletes", () => {
  it("treats another project's category as not found", async () => {
    const t = await createTenant(db);
    const other = await createTenant(db);
    const [theirs] = (await invoke("listCategories", other)).body.results as CategoryBody[];
    const params = { category_id: theirs?.id as string };
    expect((await invoke("updateCategory", t, { params, body: { name: "mine now" } })).status).toBe(404);
    expect((await invoke("deleteCategory", t, { params })).status).toBe(404);
    expect(await names(other)).toEqual(["Discovery", "Troubleshooting"]);
  });

  it("keeps labels pointing at a renamed category", async () => {
    const t = await createTenant(db);
    const [discovery] = (await invoke("listCategories", t)).body.results as CategoryBody[];
    const threadId = await thread(t, "How do I start?");
    await label(t, threadId, discovery?.id as string);
    await invoke("updateCategory", t, {
      params: { category_id: discovery?.id as string },
      body: { name: "Onboarding" },
    });
    const detail = await invoke("getThread", t, { params: { thread_id: threadId } });
    expect(detail.body.category).toMatchObject({ id: discovery?.id, name: "Onboarding", source: "user" });
  });

  it("deletes a category: its threads, user-labelled ones too, read as unlabelled at once and are sent to the classifier through the backfill queue", async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = (await invoke("listCategories", t)).body.results as CategoryBody[];
    const byUser = await thread(t, "a");
    const byClassifier = await thread(t, "b");
    const elsewhere = await thread(t, "c");
    await label(t, byUser, discovery?.id as string);
    await db
      .update(threads)
      .set({ categoryId: discovery?.id, categorySource: "classifier", classifiedAt: new Date() })
      .where(eq(threads.id, byClassifier));
    await label(t, elsewhere, troubleshooting?.id as string);
    await drainRequests(liveQueue);

    const deleted = await invoke("deleteCategory", t, { params: { category_id: discovery?.id as string } });
    expect(deleted.status).toBe(204);
    expect(deleted.raw.body).toBe("");
    for (const id of [byUser, byClassifier]) {
      const detail = await invoke("getThread", t, { params: { thread_id: id } });
      expect(detail.body.category).toBeNull();
    }
    expect((await invoke("getThread", t, { params: { thread_id: elsewhere } })).body.category).toMatchObject({
      name: "Troubleshooting",
      source: "user",
    });
    expect(await names(t)).toEqual(["Troubleshooting"]);

    const backfill = await createTestQueue("deleted-category");
    const run = await relabelDeletedCategories(
      { unlabel: new UnlabelRepository(db), backfillQueue: new SqsClassificationQueue(testSqs, backfill.queueUrl) },
      { deadline: Date.now() + 60_000, projectIds: [t.projectId] },
    );
    expect(run).toMatchObject({ unlabelled: 2, finished: 1, pending: 0 });
    const sent = await drainRequests(backfill.queueUrl);
    expect(sent.map((r) => [r.threadId, r.projectId, r.reason]).sort()).toEqual(
      [byUser, byClassifier].map((id) => [id, t.projectId, "category-deleted"]).sort(),
    );
    // Backlog work: nothing of it on the live queue.
    expect(await drainRequests(liveQueue)).toEqual([]);
    const left = await db
      .select()
      .from(threads)
      .where(eq(threads.categoryId, discovery?.id as string));
    expect(left).toEqual([]);
    expect(
      await db
        .select()
        .from(categories)
        .where(eq(categories.id, discovery?.id as string)),
    ).toEqual([]);
  });
});

describe("user labels through PATCH threads/{id}", () => {
  it("sets a user label, refuses another project's category with 400, and hands back to the classifier on null", async () => {
    const t = await createTenant(db);
    const other = await createTenant(db);
    const [, troubleshooting] = (await invoke("listCategories", t)).body.results as CategoryBody[];
    const [theirs] = (await invoke("listCategories", other)).body.results as CategoryBody[];
    const threadId = await thread(t, "It fails");

    const set = await label(t, threadId, troubleshooting?.id as string);
    expect(set.status).toBe(200);
    expect(set.body.category).toMatchObject({ id: troubleshooting?.id, name: "Troubleshooting", source: "user" });

    const foreign = await label(t, threadId, theirs?.id as string);
    expect(foreign.status).toBe(400);
    expect(foreign.body.detail).toMatch(/not a category of this project/);
    expect((await invoke("getThread", t, { params: { thread_id: threadId } })).body.category).toMatchObject({
      source: "user",
    });

    await drainRequests(liveQueue);
    const cleared = await label(t, threadId, null);
    expect(cleared.status).toBe(200);
    expect(cleared.body.category).toBeNull();
    const sent = await drainRequests(liveQueue);
    // Carrying the API request's id, so its logs follow the thread to its label.
    expect(sent.filter((r) => r.threadId === threadId)).toEqual([
      { threadId, projectId: t.projectId, reason: "relabel", correlationId: "test-request" },
    ]);
  });

  it("answers 404 for an unknown or foreign thread and 400 for bad bodies", async () => {
    const t = await createTenant(db);
    const other = await createTenant(db);
    const theirThread = await thread(other, "theirs");
    const [discovery] = (await invoke("listCategories", t)).body.results as CategoryBody[];
    expect((await label(t, theirThread, discovery?.id as string)).status).toBe(404);
    expect((await label(t, crypto.randomUUID(), null)).status).toBe(404);
    const mine = await thread(t, "mine");
    for (const body of [{}, { category_id: "nope" }, { category_id: 5 }, { category_id: null, extra: 1 }]) {
      const response = await invoke("updateThread", t, { params: { thread_id: mine }, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("threads filters and stats", () => {
  it("filters by category, none, source and creation time, keeping filters in the links", async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = (await invoke("listCategories", t)).body.results as CategoryBody[];
    const ids = await Promise.all(["q1", "q2", "q3", "q4"].map((q) => thread(t, q)));
    await db.execute(sql`update threads set created_at = '2026-01-01T00:00:00Z' where id = ${ids[3]}`);
    await label(t, ids[0] as string, discovery?.id as string);
    await db
      .update(threads)
      .set({ categoryId: troubleshooting?.id, categorySource: "classifier", classifiedAt: new Date() })
      .where(eq(threads.id, ids[1] as string));

    const list = async (query: Record<string, string>) => {
      const response = await invoke("listThreads", t, { query });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body as { count: number; next: string | null; results: { id: string }[] };
    };
    const idsOf = (page: { results: { id: string }[] }) => page.results.map((r) => r.id).sort();

    expect(idsOf(await list({ category: discovery?.id as string }))).toEqual([ids[0]]);
    expect(idsOf(await list({ category: "none" }))).toEqual([ids[2], ids[3]].sort());
    expect(idsOf(await list({ source: "user" }))).toEqual([ids[0]]);
    expect(idsOf(await list({ source: "classifier" }))).toEqual([ids[1]]);
    const recent = await list({ created_after: "2026-06-01T00:00:00Z" });
    expect(recent.count).toBe(3);
    expect(idsOf(await list({ created_before: "2026-06-01T00:00:00Z" }))).toEqual([ids[3]]);
    const paged = await list({ category: "none", limit: "1" });
    expect(paged.count).toBe(2);
    expect(paged.next).toMatch(/category=none/);

    const invalid: Record<string, string>[] = [
      { category: "x" },
      { source: "robot" },
      { created_after: "yesterday" },
      { created_after: "2026-02-01T00:00:00Z", created_before: "2026-01-01T00:00:00Z" },
    ];
    for (const query of invalid) {
      expect((await invoke("listThreads", t, { query })).status, JSON.stringify(query)).toBe(400);
    }
  });

  it("counts threads per category, unlabelled and by source, for a period", async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = (await invoke("listCategories", t)).body.results as CategoryBody[];
    const ids = await Promise.all(["a", "b", "c", "d"].map((q) => thread(t, q)));
    await label(t, ids[0] as string, discovery?.id as string);
    await label(t, ids[1] as string, discovery?.id as string);
    await db
      .update(threads)
      .set({ categoryId: troubleshooting?.id, categorySource: "classifier", classifiedAt: new Date() })
      .where(eq(threads.id, ids[2] as string));
    const stats = await invoke("categoryStats", t);
    expect(stats.body).toMatchObject({
      total: 4,
      unlabelled: 1,
      by_source: { user: 2, classifier: 1 },
      categories: [
        { name: "Discovery", count: 2, by_source: { user: 2, classifier: 0 } },
        { name: "Troubleshooting", count: 1, by_source: { user: 0, classifier: 1 } },
      ],
    });
    const empty = await invoke("categoryStats", t, { query: { created_before: "2020-01-01T00:00:00Z" } });
    expect(empty.body).toMatchObject({ total: 0, unlabelled: 0, created_before: "2020-01-01T00:00:00.000Z" });
  });
});
