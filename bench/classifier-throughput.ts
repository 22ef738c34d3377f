import { sql } from "drizzle-orm";
import { startClassificationPipeline } from "../local/classification.js";
import { consumerSettings } from "../local/harness.js";
import { createSqsClient } from "../shared/aws.js";
import { SqsClassificationQueue } from "../shared/classification/queue.js";
import { loadEnv } from "../shared/config.js";
import type { Db } from "../shared/db/client.js";
import { closeRuntime } from "../shared/runtime.js";
import { createTenant } from "../test/support/tenant.js";
import { benchEnvironment, report } from "./lib.js";

async function unlabelled(db: Db, projectId: string): Promise<number> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from threads where project_id = ${projectId} and category_id is null`,
  );
  return rows[0]?.n ?? -1;
}

/**
 * Labels per second through the real path: SQS emulator -> event source mapping (batch 10,
 * maxConcurrency) -> classifier handler -> Postgres. The messages are queued first, then the
 * consumer starts and the clock runs until every thread is labelled.
 */
async function run(options: { threads: number; classifierDelayMs: number; maxConcurrency: number; batchSize: number }) {
  const env = await benchEnvironment({
    CLASSIFIER_DELAY_MS: String(options.classifierDelayMs),
    DB_POOL_MAX: "10",
  });
  try {
    const tenant = await createTenant(env.database.db, "throughput");
    const ids = await env.database.db.execute<{ id: string }>(sql`
      insert into threads (project_id, first_question)
      select ${tenant.projectId}, 'How do I configure feature number ' || g || '?' from generate_series(1, ${options.threads}) g
      returning id`);
    const queueName = `bench-throughput-${process.pid}-${options.classifierDelayMs}`;
    // Create the queue, fill it, and only then let the consumer run.
    const sqs = createSqsClient();
    const { createQueueWithDlq } = await import("../local/sqs.js");
    const { maxReceiveCount } = await consumerSettings("live");
    const queues = await createQueueWithDlq(sqs, queueName, { visibilityTimeoutSeconds: 60, maxReceiveCount });
    await new SqsClassificationQueue(sqs, queues.queueUrl).send(
      ids.map((r) => ({ threadId: r.id, reason: "backfill" as const })),
    );

    const started = process.hrtime.bigint();
    const pipeline = await startClassificationPipeline({
      env: loadEnv(),
      maxConcurrency: options.maxConcurrency,
      batchSize: options.batchSize,
      visibilityTimeoutSeconds: 60,
      sweeperIntervalMs: 0,
      queueName,
    });
    while ((await unlabelled(env.database.db, tenant.projectId)) > 0) await new Promise((r) => setTimeout(r, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await pipeline.stop();
    const inFlightCap = options.maxConcurrency * options.batchSize;
    return {
      threads: options.threads,
      classifier_delay_ms: options.classifierDelayMs,
      max_concurrency: options.maxConcurrency,
      batch_size: options.batchSize,
      in_flight_cap: inFlightCap,
      seconds: Math.round(seconds * 100) / 100,
      labels_per_second: Math.round(options.threads / seconds),
      ...(options.classifierDelayMs > 0
        ? {
            ideal_per_second: inFlightCap / (options.classifierDelayMs / 1000),
            achieved_over_ideal:
              Math.round((options.threads / seconds / (inFlightCap / (options.classifierDelayMs / 1000))) * 1000) /
              1000,
          }
        : {}),
      peak_concurrency: pipeline.eventSource.stats().peakConcurrency,
    };
  } finally {
    await closeRuntime();
    await env.close();
  }
}

export async function benchClassifierThroughput(): Promise<void> {
  const fast = await run({
    threads: Number(process.env.BENCH_THROUGHPUT_THREADS ?? 30_000),
    classifierDelayMs: 0,
    maxConcurrency: Number(process.env.BENCH_THROUGHPUT_CONCURRENCY ?? 5),
    batchSize: 10,
  });
  const slow = await run({ threads: 1000, classifierDelayMs: 2000, maxConcurrency: 5, batchSize: 10 });
  report("classifier-throughput", [fast, slow], {
    fast,
    slow,
    target: { labels_per_second_at_least: 3000, achieved_over_ideal_at_least: 0.95 },
  });
}
