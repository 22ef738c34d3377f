import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadIntentDataSet, type Question } from "../../bench/intent-data.js";
import { CategoriesRepository } from "../../shared/categories/repository.js";
import type { CategoryOption, Classifier } from "../../shared/classification/classifier.js";
import { localClassifier } from "../../shared/classification/providers.js";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { type ClassificationMessage, classifyBatch } from "../../shared/classification/service.js";
import { sweep } from "../../shared/classification/sweeper.js";
import { categories, threads } from "../../shared/db/schema.js";
import { ThreadsRepository } from "../../shared/threads/repository.js";
import { updateThreadLabel } from "../../shared/threads/service.js";
import { createTenant, insertThreads, useTestDb } from "../support/db.js";
import { labelHistoryProblems } from "../support/label-history.js";
import { createTestQueue, drainBodies, eventually, testSqs } from "../support/sqs.js";
import { startTestWorld, type TestWorld } from "../support/world.js";

const db = useTestDb();
const labels = new LabelsRepository(db);
const threadsRepo = new ThreadsRepository(db);
const categoriesRepo = new CategoriesRepository(db);
const classifier = localClassifier();

const seedThreads = (projectId: string, questions: string[]) => insertThreads(db, projectId, questions);

let messageCount = 0;
function message(threadId: string, extra: Record<string, unknown> = {}, sentAt = Date.now()): ClassificationMessage {
  messageCount++;
  return { messageId: `m${messageCount}`, body: JSON.stringify({ threadId, reason: "new-thread", ...extra }), sentAt };
}

type StoredLabel = {
  categoryId: string | null;
  source: string | null;
  confidence: number | null;
  rationale: string | null;
  name: string | null;
};

/** The label as stored, a deleted category's too (the API reads one as no label). */
async function labelOf(threadId: string): Promise<StoredLabel | undefined> {
  const [row] = await db.execute<StoredLabel>(sql`
    select t.category_id as "categoryId", t.category_source as source, t.category_confidence as confidence,
      t.category_rationale as rationale, c.name
    from threads t left join categories c on c.id = t.category_id
    where t.id = ${threadId}`);
  return row;
}

const noRechecks = { recheckMissingAfterMs: [] };

/** Gives the project the clinc150 intent data set's categories; its questions: one test question per category. */
async function seedIntentProject(projectId: string) {
  const intents = loadIntentDataSet("clinc150");
  await db.delete(categories).where(eq(categories.projectId, projectId));
  const nameOf = new Map(intents.categories.map((c) => [c.id, c.name]));
  for (const c of intents.categories) {
    await categoriesRepo.create(projectId, { name: c.name, description: c.description });
  }
  const asked = intents.categories.map((c) => intents.test.find((q) => q.intent === c.id) as Question);
  return { asked, nameOf };
}

/** The labels repository, counting the queries that read threads (with or without their categories). */
function countingThreadReads() {
  let reads = 0;
  const counting = Object.create(labels) as LabelsRepository;
  counting.threadsWithCategories = async (threadIds) => {
    reads++;
    return labels.threadsWithCategories(threadIds);
  };
  counting.threadsByIds = async (threadIds) => {
    if (threadIds.length > 0) reads++;
    return labels.threadsByIds(threadIds);
  };
  return { counting, reads: () => reads };
}

describe("classifier batch", () => {
  it("labels each thread with one of its own project's categories, reading threads and categories in one query", async () => {
    const a = await createTenant(db);
    const b = await createTenant(db);
    // Project b holds a public intent data set's categories; its questions are that set's test questions.
    const { asked, nameOf } = await seedIntentProject(b.projectId);
    const noisy = Array.from({ length: 20 }, (_, i) => `Error ${i} when deploying`);
    const ids = [
      ...(await seedThreads(a.projectId, noisy)),
      ...(await seedThreads(
        b.projectId,
        asked.map((q) => q.text),
      )),
    ];
    const { counting, reads } = countingThreadReads();
    const failed = await classifyBatch(
      { labels: counting, classifier },
      ids.map((id) => message(id)),
    );
    expect(failed).toEqual([]);
    expect(reads()).toBe(1); // the threads and both projects' categories in one query
    const own = async (projectId: string) => new Set((await categoriesRepo.list(projectId)).map((c) => c.id));
    const ownA = await own(a.projectId);
    const ownB = await own(b.projectId);
    for (const [i, id] of ids.entries()) {
      const label = await labelOf(id);
      expect(label?.source).toBe("classifier");
      expect(i < noisy.length ? ownA : ownB).toContain(label?.categoryId);
      expect(label?.confidence).toBeGreaterThanOrEqual(0);
      expect(label?.confidence).toBeLessThanOrEqual(1);
      expect(label?.rationale).toMatch(/\S/);
    }
    const names = await Promise.all(ids.slice(noisy.length).map(async (id) => (await labelOf(id))?.name));
    expect(names).toEqual(asked.map((q) => nameOf.get(q.intent)));
  });

  it("never writes a category that is not one of the thread's project, and retries the message", async () => {
    const t = await createTenant(db);
    const other = await createTenant(db);
    const [foreign] = await categoriesRepo.list(other.projectId);
    const [id] = await seedThreads(t.projectId, ["How do I start?"]);
    const confused: Classifier = {
      classify: async () => ({ categoryId: foreign?.id as string, confidence: 0.9, rationale: "Wrong project." }),
    };
    expect(await classifyBatch({ labels, classifier: confused }, [message(id as string)])).toHaveLength(1);
    expect((await labelOf(id as string))?.categoryId).toBeNull();
  });

  it("is idempotent under duplicate delivery, also when the duplicates arrive together", async () => {
    const t = await createTenant(db);
    const [id] = await seedThreads(t.projectId, ["How do I start?"]);
    let calls = 0;
    const counting: Classifier = {
      classify: async (q, options, examples) => {
        calls++;
        return classifier.classify(q, options, examples);
      },
    };
    expect(
      await classifyBatch({ labels, classifier: counting }, [message(id as string), message(id as string)]),
    ).toEqual([]);
    const first = await labelOf(id as string);
    expect(await classifyBatch({ labels, classifier: counting }, [message(id as string)])).toEqual([]);
    expect(await labelOf(id as string)).toEqual(first);
    expect(calls).toBeLessThanOrEqual(2); // the redelivery after the label exists classifies nothing
  });

  it("never replaces a user's label, even when reclassifying", async () => {
    const t = await createTenant(db);
    const [id] = await seedThreads(t.projectId, ["Error when I log in"]);
    const [discovery] = await categoriesRepo.list(t.projectId);
    await threadsRepo.setUserLabel(t.projectId, id as string, discovery?.id as string, "test-key");
    for (const mode of ["unlabelled", "reclassify"]) {
      expect(await classifyBatch({ labels, classifier }, [message(id as string, { mode })])).toEqual([]);
      expect(await labelOf(id as string)).toMatchObject({ categoryId: discovery?.id, source: "user" });
    }
  });
});

describe("classifier batch: threads not stored yet, and failures", () => {
  it("retries a thread not stored yet while it is young, and drops the message once it is old", async () => {
    const missing = crypto.randomUUID();
    expect(await classifyBatch({ labels, classifier, ...noRechecks }, [message(missing)])).toHaveLength(1);
    const old = message(missing, {}, Date.now() - 10 * 60_000);
    expect(await classifyBatch({ labels, classifier, ...noRechecks }, [old])).toEqual([]);
  });

  it("finds a thread stored while the batch waits for it", async () => {
    const t = await createTenant(db);
    const id = crypto.randomUUID();
    // The chat stores the thread right after the batch's first look, before its recheck.
    let lookups = 0;
    const storedAfterFirstLook = Object.create(labels) as LabelsRepository;
    storedAfterFirstLook.threadsWithCategories = async (threadIds) => {
      const found = await labels.threadsWithCategories(threadIds);
      lookups++;
      if (lookups === 1) await db.insert(threads).values({ id, projectId: t.projectId, firstQuestion: "late" });
      return found;
    };
    const failed = await classifyBatch({ labels: storedAfterFirstLook, classifier, recheckMissingAfterMs: [0, 0] }, [
      message(id),
    ]);
    expect(failed).toEqual([]);
    expect(lookups).toBe(2); // missing at the first look, found at the first recheck
    expect((await labelOf(id))?.source).toBe("classifier");
  });

  it("leaves threads of a project without categories unlabelled, without a retry", async () => {
    const t = await createTenant(db);
    await db.delete(categories).where(eq(categories.projectId, t.projectId));
    const [id] = await seedThreads(t.projectId, ["anything"]);
    expect(await classifyBatch({ labels, classifier }, [message(id as string)])).toEqual([]);
    expect((await labelOf(id as string))?.categoryId).toBeNull();
  });

  it("reports classifier errors and malformed messages as batch item failures, and nothing else", async () => {
    const t = await createTenant(db);
    const [good, bad] = await seedThreads(t.projectId, ["fine question", "explodes"]);
    const flaky: Classifier = {
      classify: async (q, options, examples) => {
        if (q === "explodes") throw new Error("model overloaded");
        return classifier.classify(q, options, examples);
      },
    };
    const messages = [
      message(good as string),
      message(bad as string),
      { messageId: "junk", body: "{", sentAt: Date.now() },
    ];
    const failed = await classifyBatch({ labels, classifier: flaky }, messages);
    expect(failed.sort()).toEqual([messages[1]?.messageId, "junk"].sort());
    expect((await labelOf(good as string))?.source).toBe("classifier");
  });

  it("classifies again among the remaining categories when the chosen one is deleted meanwhile", async () => {
    const t = await createTenant(db);
    const [id] = await seedThreads(t.projectId, ["How do I do this?"]);
    const deleting: Classifier = {
      classify: async (_q, options) => {
        const chosen = options[0] as CategoryOption;
        await categoriesRepo.delete(t.projectId, chosen.id);
        return { categoryId: chosen.id, confidence: 0.9, rationale: "Chosen before its deletion." };
      },
    };
    expect(await classifyBatch({ labels, classifier: deleting }, [message(id as string)])).toHaveLength(1);
    expect((await labelOf(id as string))?.categoryId).toBeNull();
    expect(await classifyBatch({ labels, classifier }, [message(id as string)])).toEqual([]);
    const [remaining] = await categoriesRepo.list(t.projectId);
    expect(await labelOf(id as string)).toMatchObject({ categoryId: remaining?.id, source: "classifier" });
  });
});

const scored = { confidence: 0.8, rationale: "A classifier's reason.", actor: "test/fixed@1" };

describe("user labels against classifier writes", () => {
  it("keeps every user label over 1,000 concurrent trials", { timeout: 120_000 }, async () => {
    const t = await createTenant(db);
    const [discovery, troubleshooting] = await categoriesRepo.list(t.projectId);
    const ids = await seedThreads(
      t.projectId,
      Array.from({ length: 1000 }, (_, i) => `question ${i}`),
    );
    const queue = new SqsClassificationQueue(testSqs, (await createTestQueue("race")).queueUrl);
    // Each trial: the user labels the thread while the classifier (in both modes) writes its own label.
    let classifierWonTheRace = 0;
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map(async (id, j) => {
          const userChoice = (j % 2 === 0 ? discovery : troubleshooting)?.id as string;
          const classifierChoice = (j % 2 === 0 ? troubleshooting : discovery)?.id as string;
          const label = { threadId: id, categoryId: classifierChoice, ...scored };
          const [before] = await Promise.all([
            labels.writeClassifierLabel({ ...label, mode: j % 3 === 0 ? "reclassify" : "unlabelled" }),
            updateThreadLabel({ threads: threadsRepo, classificationQueue: queue }, t.projectId, id, userChoice, "key"),
            labels.writeClassifierLabel({ ...label, mode: "reclassify" }),
          ]);
          if (before) classifierWonTheRace++;
          // A retry or a reclassification after the user's label: never lands.
          expect(await labels.writeClassifierLabel({ ...label, mode: "reclassify" })).toBe(false);
        }),
      );
    }
    const rows = await db
      .select({
        source: threads.categorySource,
        confidence: threads.categoryConfidence,
        rationale: threads.categoryRationale,
        n: sql<number>`count(*)::int`,
      })
      .from(threads)
      .where(inArray(threads.id, ids))
      .groupBy(threads.categorySource, threads.categoryConfidence, threads.categoryRationale);
    // The user's label cleared the classifier's confidence and rationale along with its category.
    expect(rows).toEqual([{ source: "user", confidence: null, rationale: null, n: 1000 }]);
    // The trials really raced: some classifier writes landed before the user's label replaced them.
    expect(classifierWonTheRace).toBeGreaterThan(0);
    // Every change has its history entry and every entry is a change, in the order they happened.
    expect(await labelHistoryProblems(db, ids)).toEqual([]);
    const [counted] = await db.execute<{ classifier: number; user: number }>(sql`
      select count(*) filter (where source = 'classifier')::int as classifier, count(*) filter (where source = 'user')::int as user
      from thread_label_changes where thread_id = any(${`{${ids.join(",")}}`}::uuid[])`);
    expect(counted?.user).toBe(1000);
    expect(counted?.classifier).toBeGreaterThanOrEqual(classifierWonTheRace);
  });
});

const threadOf = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { threadId?: string }).threadId;
  } catch {
    return undefined;
  }
};

/**
 * A world whose classifier consumes the live queue; its invocations fail for the threads in
 * `breaking` (the fault hook), which counts how often each was tried.
 */
async function startBreakableWorld(breaking: Map<string, number>): Promise<TestWorld> {
  const world: TestWorld = await startTestWorld({
    label: "classification",
    consumers: ["classifier:ClassificationQueueUrl"],
    // Longer than the template's 1 s batching window: a message gathered early must not come back meanwhile.
    deviations: { visibilityTimeoutSeconds: 3 },
    wrapInvoke: (functionId, event, invoke) => {
      if (functionId !== world.functionId("classifier")) return invoke(event);
      const records = (event as { Records?: { body: string }[] }).Records ?? [];
      const broken = records.map((r) => threadOf(r.body)).filter((id): id is string => breaking.has(id ?? ""));
      for (const id of broken) breaking.set(id, (breaking.get(id) ?? 0) + 1);
      if (broken.length > 0) throw new Error("model error");
      return invoke(event);
    },
  });
  return world;
}

describe("classification pipeline on the SQS emulator", () => {
  let world: TestWorld;
  let live: { queueUrl: string; dlqUrl: string };
  /** Threads whose classifier invocations fail (the fault hook), and how often they were tried. */
  const breaking = new Map<string, number>();

  beforeAll(async () => {
    world = await startBreakableWorld(breaking);
    live = {
      queueUrl: world.queueUrl("ClassificationQueueUrl"),
      dlqUrl: world.queueUrl("ClassificationDeadLetterQueueUrl"),
    };
  });
  afterAll(() => world.stop());
  const queue = () => new SqsClassificationQueue(testSqs, live.queueUrl);
  /** The bodies the DLQ holds, once it holds any. */
  const deadLettered = () =>
    eventually(async () => {
      const found = await drainBodies(live.dlqUrl);
      return found.length > 0 ? found : undefined;
    }, 60_000);

  it("labels threads sent through the live queue", async () => {
    const t = await createTenant(db);
    const ids = await seedThreads(t.projectId, ["How do I install it?", "It crashes with an error"]);
    await queue().send(ids.map((threadId) => ({ threadId, projectId: t.projectId, reason: "sweep" })));
    for (const id of ids) await eventually(async () => ((await labelOf(id))?.categoryId ? true : undefined));
  });

  it("moves a poison message to the DLQ after 5 receives", { timeout: 90_000 }, async () => {
    await testSqs.send(new SendMessageCommand({ QueueUrl: live.queueUrl, MessageBody: "not json" }));
    expect(await deadLettered()).toEqual(["not json"]);
  });

  it("retries a thread whose classification keeps failing, then dead-letters it after 5 receives", {
    timeout: 90_000,
  }, async () => {
    const t = await createTenant(db);
    const [id] = await seedThreads(t.projectId, ["this question always breaks the model"]);
    breaking.set(id as string, 0);
    await queue().send([{ threadId: id as string, projectId: t.projectId, reason: "sweep" }]);
    const dead = await deadLettered();
    expect(dead.map((b) => JSON.parse(b).threadId)).toEqual([id]);
    expect(breaking.get(id as string)).toBe(5);
    expect((await labelOf(id as string))?.categoryId).toBeNull();
  });

  it("lets the sweeper recover a thread whose enqueue failed", async () => {
    const t = await createTenant(db);
    const [id] = await seedThreads(t.projectId, ["Nobody sent me to the classifier"]);
    // As if the chat's send had failed 10 minutes ago.
    await db.execute(
      sql`update threads set created_at = now() - interval '10 minutes', classification_requested_at = null where id = ${id}`,
    );
    const options = { graceSeconds: 300, lookbackHours: 24, maxThreads: 10_000 };
    const result = await sweep({ labels, queue: queue(), backfillQueue: queue() }, options);
    expect(result.requeued).toBeGreaterThanOrEqual(1);
    await eventually(async () => ((await labelOf(id as string))?.categoryId ? true : undefined));
    // Marked as sent: an immediate second sweep does not send it again.
    const again = await labels.dueForSweep(300, 24, 10_000);
    expect(again.map((d) => d.id)).not.toContain(id);
  });
});
