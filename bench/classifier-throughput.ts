import { sql } from "drizzle-orm";
import { createTenant } from "../shared/admin/tenants.js";
import { SqsClassificationQueue } from "../shared/classification/queue.js";
import { LabelsRepository } from "../shared/classification/repository.js";
import { closeRuntime } from "../shared/composition/runtime.js";
import type { Db } from "../shared/db/client.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { startWorldOn } from "../test/support/local-world.js";
import { DEVELOPMENT_SETS, HELD_OUT_SETS, loadIntentDataSet } from "./intent-data.js";
import { type BenchEnvironment, benchEnvironment, machineLoad, processCpuSeconds, report } from "./lib.js";
import { startProbe } from "./profile.js";

const TARGET_LABELS_PER_SECOND = 3000;
/** Issue 25: the classifier path keeps at least this share of the raw label UPDATE rate. */
const TARGET_SHARE_OF_RAW_UPDATES = 0.24;

interface Options {
  threads: number;
  /** The project's categories and label examples per category (each a user-labelled thread). */
  categories?: number;
  examplesPerCategory?: number;
  classifierDelayMs: number;
  maxConcurrency: number;
  batchSize: number;
}

async function unlabelled(db: Db, projectId: string): Promise<number> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from threads where project_id = ${projectId} and category_id is null`,
  );
  return rows[0]?.n ?? -1;
}

/** The database's clock now, and when the project's last label landed: the run's exact span. */
async function dbNow(db: Db): Promise<number> {
  const rows = await db.execute<{ t: string }>(sql`select (extract(epoch from clock_timestamp()) * 1000)::text as t`);
  return Number(rows[0]?.t);
}
async function lastLabelAt(db: Db, projectId: string): Promise<number> {
  const rows = await db.execute<{ t: string }>(
    sql`select (extract(epoch from max(classified_at)) * 1000)::text as t from threads where project_id = ${projectId}`,
  );
  return Number(rows[0]?.t);
}

/**
 * Replaces the project's categories with `count` categories of the intent data sets, each with
 * `perCategory` examples: real questions, labelled by a user, as corrections leave them.
 */
async function seedExamples(db: Db, projectId: string, count: number, perCategory: number): Promise<number> {
  if (count === 0) return 0;
  const sets = [...DEVELOPMENT_SETS, ...HELD_OUT_SETS].map(loadIntentDataSet);
  const intents = sets.flatMap((s) =>
    s.categories.map((c) => ({ ...c, questions: [...s.train, ...s.val, ...s.test].filter((q) => q.intent === c.id) })),
  );
  await db.execute(sql`delete from categories where project_id = ${projectId}`);
  for (const [i, intent] of intents.slice(0, count).entries()) {
    const questions = Array.from(
      { length: perCategory },
      (_, j) => intent.questions[j % intent.questions.length]?.text,
    );
    await db.execute(sql`
      with category as (
        insert into categories (project_id, name, description)
        values (${projectId}, ${`${intent.name} ${i}`}, ${intent.description}) returning id
      ), labelled as (
        insert into threads (project_id, first_question, category_id, category_source, classified_at)
        select ${projectId}, q, category.id, 'user', now() from category, json_array_elements_text(${JSON.stringify(questions)}::json) q
        returning id, category_id, first_question
      )
      insert into label_examples (thread_id, category_id, question) select id, category_id, first_question from labelled`);
  }
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from label_examples e join categories c on c.id = e.category_id
    where c.project_id = ${projectId}`);
  return row?.n ?? 0;
}

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The ceiling the pipeline is compared with: the classifier's label UPDATE alone (same statement,
 * same batch size and concurrency), on as many fresh threads, with no queue and no classification.
 */
async function rawUpdateRate(env: BenchEnvironment, options: Options) {
  const db = env.database.db;
  const tenant = await createTenant(db, "throughput-raw");
  const ids = await db.execute<{ id: string }>(sql`
    insert into threads (project_id, first_question)
    select ${tenant.projectId}, 'How do I configure feature number ' || g || '?' from generate_series(1, ${options.threads}) g
    returning id`);
  const [category] = await db.execute<{ id: string }>(
    sql`select id from categories where project_id = ${tenant.projectId} order by name limit 1`,
  );
  await db.execute(sql`vacuum analyze threads`);
  const labels = new LabelsRepository(db);
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += options.batchSize)
    batches.push(ids.slice(i, i + options.batchSize).map((r) => r.id));
  const started = performance.now();
  const worker = async () => {
    for (let batch = batches.pop(); batch; batch = batches.pop()) {
      await labels.writeClassifierLabels(
        batch.map((threadId) => ({
          threadId,
          categoryId: category?.id as string,
          confidence: 0.5,
          rationale: "A raw write.",
          actor: "bench/raw@1",
          mode: "unlabelled" as const,
        })),
      );
    }
  };
  await Promise.all(Array.from({ length: options.maxConcurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  if ((await unlabelled(db, tenant.projectId)) !== 0) throw new Error("raw updates left threads unlabelled");
  return { threads: options.threads, seconds: round(seconds, 2), labels_per_second: round(options.threads / seconds) };
}

/**
 * Labels per second through the real path: SQS emulator (its own process) -> event source
 * mapping (batch 10, maxConcurrency) -> classifier handler -> Postgres. The messages are queued
 * first, then the consumer starts; the clock runs from the start (database time) to the last
 * label's write (polled every 250 ms, so that polling costs the database nothing to speak of).
 * Also measured: CPU seconds of this process and of the emulator's, the event loop's delay.
 */
async function run(env: BenchEnvironment, options: Options) {
  const db = env.database.db;
  const tenant = await createTenant(db, `throughput-${options.classifierDelayMs}`);
  const ids = await db.execute<{ id: string }>(sql`
    insert into threads (project_id, first_question)
    select ${tenant.projectId}, 'How do I configure feature number ' || g || '?' from generate_series(1, ${options.threads}) g
    returning id`);
  const examples = await seedExamples(db, tenant.projectId, options.categories ?? 0, options.examplesPerCategory ?? 0);
  await db.execute(sql`vacuum analyze threads`);
  // The world's classifier on its live queue, its cap and batch size as CDK context (npm start:
  // CLASSIFIER_MAX_CONCURRENCY, CLASSIFIER_BATCH_SIZE); the backlog is queued before it polls.
  const world = await startWorldOn(
    { sqsEndpoint: env.sqsEndpoint, database: { url: process.env.DATABASE_URL as string } },
    {
      label: `bench-throughput-${options.classifierDelayMs}`,
      context: {
        "kapa:classifierMaxConcurrency": options.maxConcurrency,
        "kapa:classifierBatchSize": options.batchSize,
      },
      consumers: ["classifier:ClassificationQueueUrl"],
      deviations: { visibilityTimeoutSeconds: 60 },
      localEnv: { CLASSIFIER_DELAY_MS: String(options.classifierDelayMs) },
      paused: true,
    },
  );
  const sqs = createSqsClient();
  await new SqsClassificationQueue(sqs, world.queueUrl("ClassificationQueueUrl")).send(
    ids.map((r) => ({ threadId: r.id, projectId: tenant.projectId, reason: "backfill" as const })),
  );
  sqs.destroy();

  const probe = await startProbe();
  const cpuBefore = process.cpuUsage();
  const sqsCpuBefore = processCpuSeconds(env.sqsPid);
  const started = await dbNow(db);
  world.world.start();
  while ((await unlabelled(db, tenant.projectId)) > 0) await new Promise((r) => setTimeout(r, 250));
  const seconds = ((await lastLabelAt(db, tenant.projectId)) - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sqsCpu = processCpuSeconds(env.sqsPid) - sqsCpuBefore;
  const measured = await probe.stop(`classifier-throughput-${options.classifierDelayMs}ms`);
  const [live] = world.world.eventSources.values();
  const peakConcurrency = live?.stats().peakConcurrency;
  await world.stop();
  await closeRuntime();
  const inFlightCap = options.maxConcurrency * options.batchSize;
  const perSecond = options.threads / seconds;
  const ideal = options.classifierDelayMs > 0 ? inFlightCap / (options.classifierDelayMs / 1000) : null;
  return {
    threads: options.threads,
    classifier_delay_ms: options.classifierDelayMs,
    max_concurrency: options.maxConcurrency,
    batch_size: options.batchSize,
    categories: options.categories ?? 2,
    examples,
    in_flight_cap: inFlightCap,
    seconds: round(seconds, 2),
    labels_per_second: round(perSecond),
    ...(ideal === null
      ? { target: TARGET_LABELS_PER_SECOND, achieved_over_target: round(perSecond / TARGET_LABELS_PER_SECOND, 3) }
      : { ideal_per_second: ideal, achieved_over_ideal: round(perSecond / ideal, 3) }),
    runner_cpu_ms_per_label: round((cpu.user + cpu.system) / 1000 / options.threads, 3),
    sqs_cpu_ms_per_label: round((sqsCpu * 1000) / options.threads, 3),
    event_loop_delay_p99_ms: measured.event_loop_delay_ms.p99,
    peak_concurrency: peakConcurrency,
    ...(measured.cpu_profile ? { cpu_profile_self_time: measured.cpu_profile } : {}),
  };
}

export async function benchClassifierThroughput(): Promise<void> {
  const maxConcurrency = Number(process.env.BENCH_THROUGHPUT_CONCURRENCY ?? 5);
  const slowThreads = Number(process.env.BENCH_THROUGHPUT_SLOW_THREADS ?? 1000);
  const loadBefore = machineLoad().load_average;
  const env = await benchEnvironment({
    DB_POOL_MAX: "10",
  });
  try {
    process.env.CLASSIFIER_DELAY_MS = "0";
    const fast = await run(env, {
      threads: Number(process.env.BENCH_THROUGHPUT_THREADS ?? 30_000),
      classifierDelayMs: 0,
      maxConcurrency,
      batchSize: 10,
      // Issue 25's measure: 20 categories with 50 examples each (0 and 0: the two defaults, none).
      categories: Number(process.env.BENCH_THROUGHPUT_CATEGORIES ?? 20),
      examplesPerCategory: Number(process.env.BENCH_THROUGHPUT_EXAMPLES ?? 50),
    });
    const raw = await rawUpdateRate(env, {
      threads: fast.threads,
      classifierDelayMs: 0,
      maxConcurrency,
      batchSize: 10,
    });
    const shareOfRaw = round(fast.labels_per_second / raw.labels_per_second, 3);
    const rows: Record<string, unknown>[] = [fast];
    let slow: Awaited<ReturnType<typeof run>> | null = null;
    if (slowThreads > 0) {
      process.env.CLASSIFIER_DELAY_MS = "2000";
      slow = await run(env, { threads: slowThreads, classifierDelayMs: 2000, maxConcurrency: 5, batchSize: 10 });
      rows.push(slow);
    }
    const { cpu_profile_self_time: _, ...fastRow } = fast;
    report("classifier-throughput", [fastRow, { raw_update: true, ...raw }, ...rows.slice(1)], {
      fast,
      raw_update: raw,
      share_of_raw_update_rate: shareOfRaw,
      slow,
      load_average_before: loadBefore,
      target: {
        labels_per_second_at_least: TARGET_LABELS_PER_SECOND,
        achieved_over_ideal_at_least: 0.95,
        share_of_raw_update_rate_at_least: TARGET_SHARE_OF_RAW_UPDATES,
        share_met: shareOfRaw >= TARGET_SHARE_OF_RAW_UPDATES,
        met:
          fast.labels_per_second >= TARGET_LABELS_PER_SECOND &&
          (slow === null || ("achieved_over_ideal" in slow && slow.achieved_over_ideal >= 0.95)),
      },
    });
  } finally {
    await closeRuntime();
    await env.close();
  }
}
