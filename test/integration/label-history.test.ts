import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { createTenant, insertThreads, type Tenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { labelHistoryProblems } from "../support/label-history.js";

const db = useTestDb();
const labels = new LabelsRepository(db);
const MODEL = "test/fixed@1";

const seedThreads = (t: Tenant, questions: string[]) => insertThreads(db, t.projectId, questions);

async function categoryIds(t: Tenant): Promise<[string, string]> {
  const results = (await invoke("listCategories", t)).body.results as { id: string; name: string }[];
  const id = (name: string) => results.find((c) => c.name === name)?.id as string;
  return [id("Discovery"), id("Troubleshooting")];
}

function classify(
  threadId: string,
  categoryId: string,
  confidence: number,
  mode: "unlabelled" | "reclassify" = "unlabelled",
) {
  return labels.writeClassifierLabel({
    threadId,
    categoryId,
    confidence,
    rationale: `Because ${confidence}.`,
    actor: MODEL,
    mode,
  });
}

const relabel = (t: Tenant, threadId: string, categoryId: string | null) =>
  invoke("updateThread", t, { params: { thread_id: threadId }, body: { category_id: categoryId } });

type Change = { category: { id: string } | null; previous: { id: string } | null; source: string; actor: string };

describe("label history", () => {
  it("records every change once, oldest first, and pages with next", async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = await categoryIds(t);
    const [id] = (await seedThreads(t, ["How do I set up SSO?"])) as [string];
    expect(await classify(id, discovery, 0.3)).toBe(true);
    // The same category again confirms the classifier's label: the source becomes user.
    const confirmed = await relabel(t, id, discovery);
    expect(confirmed.body.category).toMatchObject({ id: discovery, source: "user", confidence: null });
    // Again: nothing changes, nothing is recorded.
    expect((await relabel(t, id, discovery)).status).toBe(200);
    expect((await relabel(t, id, troubleshooting)).status).toBe(200);
    expect((await relabel(t, id, null)).status).toBe(200);

    const all = await invoke("threadLabels", t, { params: { thread_id: id } });
    expect(all.status).toBe(200);
    expect(all.body.next).toBeNull();
    const results = all.body.results as Change[];
    expect(results).toEqual([
      expect.objectContaining({
        category: { id: discovery, name: "Discovery" },
        previous: null,
        source: "classifier",
        actor: MODEL,
        confidence: expect.closeTo(0.3, 5),
        rationale: "Because 0.3.",
      }),
      expect.objectContaining({
        category: { id: discovery, name: "Discovery" },
        previous: { id: discovery, name: "Discovery" },
        source: "user",
        actor: t.apiKeyId,
        confidence: null,
        rationale: null,
      }),
      expect.objectContaining({ category: { id: troubleshooting, name: "Troubleshooting" }, source: "user" }),
      expect.objectContaining({ category: null, previous: { id: troubleshooting, name: "Troubleshooting" } }),
    ]);
    expect(await labelHistoryProblems(db, [id])).toEqual([]);

    const first = await invoke("threadLabels", t, { params: { thread_id: id }, query: { limit: "3" } });
    expect(first.body.results).toEqual(results.slice(0, 3));
    const cursor = new URL(first.body.next as string).searchParams.get("cursor") as string;
    const second = await invoke("threadLabels", t, { params: { thread_id: id }, query: { limit: "3", cursor } });
    expect(second.body).toEqual({ next: null, results: results.slice(3) });
  });

  it("answers 404 for a thread of another project and 400 for a forged cursor", async () => {
    const [t, other] = [await createTenant(db), await createTenant(db)];
    const [id] = (await seedThreads(other, ["Not yours"])) as [string];
    expect((await invoke("threadLabels", t, { params: { thread_id: id } })).status).toBe(404);
    const [mine] = (await seedThreads(t, ["Mine"])) as [string];
    const forged = await invoke("threadLabels", t, { params: { thread_id: mine }, query: { cursor: "bm9wZQ" } });
    expect(forged.status).toBe(400);
  });
});

describe("review queue", () => {
  it("lists unconfirmed classifier labels below the project's threshold, least confident first", async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = await categoryIds(t);
    const ids = await seedThreads(t, ["a", "b", "c", "d"]);
    const [low, mid, high, user] = ids as [string, string, string, string];
    await classify(mid, discovery, 0.4);
    await classify(low, troubleshooting, 0.2);
    await classify(high, discovery, 0.7);
    await classify(user, discovery, 0.1);
    await relabel(t, user, troubleshooting);

    const review = async (query: Record<string, string>) => {
      const reply = await invoke("listThreads", t, { query });
      expect(reply.status).toBe(200);
      return {
        count: reply.body.count,
        ids: (reply.body.results as { id: string }[]).map((r) => r.id),
        body: reply.body,
      };
    };
    expect((await invoke("getProjectSettings", t)).body).toEqual({ review_threshold: 0.5 });
    expect(await review({ review: "true" })).toMatchObject({ count: 2, ids: [low, mid] });
    expect(await review({ confidence_below: "0.3" })).toMatchObject({ count: 1, ids: [low] });

    const raised = await invoke("updateProjectSettings", t, { body: { review_threshold: 0.8 } });
    expect(raised.body).toEqual({ review_threshold: 0.8 });
    const page = await review({ review: "true", limit: "2" });
    expect(page).toMatchObject({ count: 3, ids: [low, mid] });
    expect(new URL(page.body.next as string).searchParams.get("offset")).toBe("2");
    expect(await review({ review: "true", offset: "2" })).toMatchObject({ ids: [high] });

    // Confirming takes a label out of the queue.
    await relabel(t, low, troubleshooting);
    expect(await review({ review: "true" })).toMatchObject({ count: 2, ids: [mid, high] });

    const badThreshold = await invoke("updateProjectSettings", t, { body: { review_threshold: 1.5 } });
    expect(badThreshold.status).toBe(400);
    const byCursor = await invoke("listThreads", t, { query: { review: "true", cursor: "abc" } });
    expect(byCursor.status).toBe(400);
  });

  it("reads the queue along its index, not the project's threads", async () => {
    const t = await createTenant(db);
    await db.execute(sql`set enable_seqscan = off`);
    try {
      const plan = await db.execute<{ "QUERY PLAN": string }>(sql`explain
        select id from threads where project_id = ${t.projectId}::uuid and category_source = 'classifier'
          and category_confidence < 0.5 order by category_confidence, id limit 100`);
      expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toContain("threads_review_idx");
    } finally {
      await db.execute(sql`reset enable_seqscan`);
    }
  });
});

describe("label quality", () => {
  it("counts per category what users did with the classifier's labels since", async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = await categoryIds(t);
    const [start] = await db.execute<{ now: string }>(sql`select (now() - interval '1 minute')::text as now`);
    const [kept, changed, untouched, reclassified] = (await seedThreads(t, ["a", "b", "c", "d"])) as string[] as [
      string,
      string,
      string,
      string,
    ];
    for (const id of [kept, changed, untouched]) await classify(id, discovery, 0.6);
    await classify(reclassified, troubleshooting, 0.6);
    await classify(reclassified, discovery, 0.9, "reclassify");
    await relabel(t, kept, discovery);
    await relabel(t, changed, troubleshooting);

    const created_after = new Date(start?.now as string).toISOString();
    const reply = await invoke("categoryQuality", t, { query: { created_after } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ labels: 5, truncated: false });
    expect(reply.body.categories).toEqual([
      {
        id: discovery,
        name: "Discovery",
        classifier_labels: 4,
        confirmed: 1,
        unchanged: 2,
        changed: 1,
        replaced: 0,
        kept_share: 0.75,
        changed_to: [{ category: { id: troubleshooting, name: "Troubleshooting" }, count: 1 }],
      },
      {
        id: troubleshooting,
        name: "Troubleshooting",
        classifier_labels: 1,
        confirmed: 0,
        unchanged: 0,
        changed: 0,
        replaced: 1,
        kept_share: 0,
        changed_to: [],
      },
    ]);
    const empty = await invoke("categoryQuality", t, { query: { created_before: created_after } });
    expect(empty.body).toMatchObject({ labels: 0, categories: [] });
  });
});
