import { createTenant } from "../shared/admin/tenants.js";
import { DEFAULT_REVIEW_THRESHOLD } from "../shared/classification/local/index.js";
import { type FairnessWorld, type ProjectClient, projectClient, startFairnessWorld } from "./fairness-world.js";
import {
  CORRECTION_STEPS,
  DEVELOPMENT_SETS,
  HELD_OUT_SETS,
  type IntentDataSet,
  loadIntentDataSet,
  type Question,
} from "./intent-data.js";
import { accuracyOf, byThreshold, halves, type Judged, separation } from "./label-metrics.js";
import { report } from "./lib.js";

/**
 * `npm run bench label-quality`: the `local` provider measured through the API of `npm start`'s
 * world (real gateway, SQS emulator, classifier worker, Postgres). Per data set, a project whose
 * categories are created with their descriptions through the API; held-out questions chatted as
 * new threads and their labels read back, zero-shot, then after 5, 10 and 20 corrections per
 * category made with `PATCH threads/{id}/` on threads chatted from the set's train questions.
 */

/** Held-out questions asked per category at each step (the sets hold 30-40): bounds the run time. */
const QUESTIONS_PER_CATEGORY = Number(process.env.LQ_QUESTIONS_PER_CATEGORY ?? 20);
const SETS = process.env.LQ_SETS?.split(",") ?? ["clinc150-banking", ...HELD_OUT_SETS];
/** Chats in flight at once. */
const CLIENTS = 8;
const LABEL_WAIT_MS = 120_000;
const RETRIED = new Set([429, 503]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A call retried while the API answers 429 or 503, as a client would; throws on any other failure. */
async function call(client: ProjectClient, method: string, path: string, body?: unknown) {
  for (let attempt = 0; ; attempt++) {
    const reply = await client.call(method, path, body);
    if (reply.status < 300) return reply.body;
    if (!RETRIED.has(reply.status) || attempt >= 20) {
      throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    await sleep(250 * (attempt + 1));
  }
}

/** A new thread asking `question`: its id. */
async function chat(client: ProjectClient, question: string): Promise<string> {
  return (await call(client, "POST", "/chat", { question })).thread_id as string;
}

interface Label {
  categoryId: string;
  confidence: number | null;
  source: string;
}

/** The thread's label once the pipeline wrote it. */
async function labelOf(client: ProjectClient, threadId: string): Promise<Label> {
  const started = Date.now();
  for (;;) {
    const thread = await call(client, "GET", `/threads/${threadId}`);
    const category = thread.category as { id: string; confidence: number | null; source: string } | null;
    if (category) return { categoryId: category.id, confidence: category.confidence, source: category.source };
    if (Date.now() - started > LABEL_WAIT_MS)
      throw new Error(`thread ${threadId} unlabelled after ${LABEL_WAIT_MS} ms`);
    await sleep(200);
  }
}

/** A project holding only the data set's categories (the defaults deleted), created through the API. */
async function projectFor(world: FairnessWorld, data: IntentDataSet) {
  const tenant = await createTenant(world.database.db, `lq-${data.name}`);
  const client = projectClient(world.baseUrl, tenant);
  const existing = (await call(client, "GET", "/categories")).results as { id: string }[];
  for (const c of existing) await call(client, "DELETE", `/categories/${c.id}`);
  const idOf = new Map<string, string>();
  for (const c of data.categories) {
    const created = await call(client, "POST", "/categories", { name: c.name, description: c.description });
    idOf.set(c.id, created.id as string);
  }
  return { client, idOf };
}

/** Each category's first `count` questions of `pool`, taken after skipping the first `from`. */
function perCategory(data: IntentDataSet, pool: readonly Question[], from: number, count: number): Question[] {
  return data.categories.flatMap((c) => pool.filter((q) => q.intent === c.id).slice(from, from + count));
}

/** Corrections: each train question chatted as a new thread, then labelled by a user with `PATCH`. */
async function correct(client: ProjectClient, idOf: Map<string, string>, questions: readonly Question[]) {
  await inParallel(questions, CLIENTS, async (q) => {
    const threadId = await chat(client, q.text);
    await call(client, "PATCH", `/threads/${threadId}`, { category_id: idOf.get(q.intent) });
  });
}

/** Held-out questions chatted as new threads; each label the pipeline wrote, judged. */
async function ask(client: ProjectClient, idOf: Map<string, string>, questions: readonly Question[]) {
  const threadIds = await inParallel(questions, CLIENTS, (q) => chat(client, q.text));
  const labels = await inParallel(threadIds, CLIENTS, (id) => labelOf(client, id));
  return labels.map(
    (label, i): Judged => ({
      right: label.categoryId === idOf.get(questions[i]?.intent ?? ""),
      confidence: label.confidence ?? 0,
    }),
  );
}

async function measureSet(world: FairnessWorld, name: string): Promise<Record<string, unknown>[]> {
  const data = loadIntentDataSet(name);
  const { client, idOf } = await projectFor(world, data);
  const heldOut = perCategory(data, data.test, 0, QUESTIONS_PER_CATEGORY);
  const rows: Record<string, unknown>[] = [];
  let corrected = 0;
  for (const step of CORRECTION_STEPS) {
    const started = Date.now();
    await correct(client, idOf, perCategory(data, data.train, corrected, step - corrected));
    corrected = step;
    const labels = await ask(client, idOf, heldOut);
    rows.push({
      data_set: name,
      set: HELD_OUT_SETS.includes(name) ? "held-out" : DEVELOPMENT_SETS.includes(name) ? "development" : "other",
      categories: data.categories.length,
      corrections: step,
      questions: labels.length,
      accuracy: accuracyOf(labels),
      ...halves(labels),
      ...byThreshold(labels, DEFAULT_REVIEW_THRESHOLD),
      ...separation(labels),
      step_seconds: Math.round((Date.now() - started) / 100) / 10,
    });
    process.stderr.write(`label-quality: ${name}, ${step} corrections: ${JSON.stringify(rows.at(-1))}\n`);
  }
  return rows;
}

/** The targets for `local` on 10-category data, judged per data set. */
function targets(rows: readonly Record<string, unknown>[]) {
  return SETS.map((name) => {
    const at = (n: number) => rows.find((r) => r.data_set === name && r.corrections === n);
    const zero = Number(at(0)?.accuracy);
    const ten = Number(at(10)?.accuracy);
    const gaps = CORRECTION_STEPS.map((n) => Number(at(n)?.half_gap));
    return {
      data_set: name,
      zero_shot: zero,
      zero_shot_met: zero >= 0.55,
      after_10: ten,
      after_10_met: ten >= 0.7,
      half_gaps: gaps,
      half_gap_met_at: CORRECTION_STEPS.filter((_, i) => (gaps[i] ?? 0) >= 0.25),
    };
  });
}

export async function benchLabelQuality(): Promise<void> {
  const world = await startFairnessWorld("label-quality", {
    CLASSIFIER_DELAY_MS: "0",
    PER_KEY_RATE_LIMIT: "10000",
    PER_KEY_BURST_LIMIT: "10000",
  });
  const started = Date.now();
  try {
    const rows: Record<string, unknown>[] = [];
    for (const name of SETS) rows.push(...(await measureSet(world, name)));
    report("label-quality", rows, {
      provider: "local",
      through: "npm start: gateway, chat, SQS emulator, classifier worker, Postgres; PATCH for corrections",
      questions_per_category: QUESTIONS_PER_CATEGORY,
      review_threshold: DEFAULT_REVIEW_THRESHOLD,
      quality: rows,
      targets: targets(rows),
      run_seconds: Math.round((Date.now() - started) / 1000),
    });
  } finally {
    await world.stop();
  }
}
