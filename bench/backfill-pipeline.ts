import { sql } from "drizzle-orm";
import { seedThreads } from "../shared/admin/seed.js";
import { createTenant, type Tenant } from "../shared/admin/tenants.js";
import { startJob } from "../shared/backfill/service.js";
import { closeRuntime, runtime } from "../shared/composition/runtime.js";
import type { Db } from "../shared/db/client.js";
import { startWorldOn } from "../test/support/local-world.js";
import { benchEnvironment, report, stats } from "./lib.js";

const CLASSIFIER_DELAY_MS = 2000;
const BACKFILL_MAX_CONCURRENCY = 50;
const BATCH_SIZE = 10;
const IN_FLIGHT_CAP = BACKFILL_MAX_CONCURRENCY * BATCH_SIZE;

async function unlabelled(db: Db): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from threads where category_id is null`);
  return rows[0]?.n ?? -1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks the live project a question through the API: seconds until its thread is labelled. */
async function liveLabelSeconds(db: Db, url: string, tenant: Tenant): Promise<number> {
  const asked = Date.now();
  const response = await fetch(`${url}/query/v1/projects/${tenant.projectId}/chat`, {
    method: "POST",
    headers: { "X-API-KEY": tenant.apiKey, "content-type": "application/json" },
    body: JSON.stringify({ question: "How do I rotate my API key?" }),
  });
  const { thread_id: threadId } = (await response.json()) as { thread_id: string };
  for (;;) {
    const rows = await db.execute<{ source: string | null }>(
      sql`select category_source as source from threads where id = ${threadId}`,
    );
    if (rows[0]?.source) break;
    await sleep(50);
  }
  return (Date.now() - asked) / 1000;
}

interface Progress {
  threads: number;
  started: number;
  finished: number;
  firstLabelAt: number | null;
  /** Unlabelled threads over time. */
  samples: { at: number; pending: number }[];
  liveLatencies: number[];
  peak: number;
}

function summary({ threads, started, finished, firstLabelAt, samples, liveLatencies, peak }: Progress) {
  const ideal = IN_FLIGHT_CAP / (CLASSIFIER_DELAY_MS / 1000);
  const total = (finished - started) / 1000;
  const labelling = (finished - (firstLabelAt ?? started)) / 1000;
  // Steady state: from 10% to 90% labelled.
  const at = (share: number) => samples.find((p) => p.pending <= threads * (1 - share))?.at ?? finished;
  const steady = (threads * 0.8) / ((at(0.9) - at(0.1)) / 1000);
  const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
  const latency = stats(liveLatencies.map((s) => s * 1000));
  return {
    threads,
    in_flight_cap: IN_FLIGHT_CAP,
    classifier_delay_ms: CLASSIFIER_DELAY_MS,
    ideal_per_second: ideal,
    seconds_start_to_done: round(total, 1),
    seconds_first_label_to_done: round(labelling, 1),
    rate_end_to_end: round(threads / total, 1),
    rate_from_first_label: round(threads / labelling, 1),
    rate_steady_10_to_90: round(steady, 1),
    achieved_over_ideal_end_to_end: round(threads / total / ideal),
    achieved_over_ideal_from_first_label: round(threads / labelling / ideal),
    achieved_over_ideal_steady: round(steady / ideal),
    peak_backfill_invocations: peak,
    live_threads: liveLatencies.length,
    live_label_seconds_p50: round(latency.p50 / 1000, 2),
    live_label_seconds_max: round(latency.max / 1000, 2),
  };
}

/**
 * The whole backfill path at its cap, with a live thread now and then: N unlabelled threads, the
 * state machine as CDK synthesizes it on the local Step Functions (its tasks in worker threads),
 * the backfill queue drained by the classifier at maxConcurrency 50 x batch 10 = 500 in flight,
 * CLASSIFIER_DELAY_MS = 2000: the ideal is 500 / 2 s = 250 threads/s. Meanwhile the live pipeline
 * (its own queue, the default cap 5 x 10) labels threads asked through the API every 5 s.
 */
export async function benchBackfillPipeline(threads = Number(process.env.BENCH_PIPELINE_THREADS ?? 20_000)) {
  const env = await benchEnvironment({
    CLASSIFIER_DELAY_MS: String(CLASSIFIER_DELAY_MS),
    CLASSIFIER_BATCH_SIZE: String(BATCH_SIZE),
    LLM_DELAY_MS: "0",
    DB_POOL_MAX: "20",
  });
  const { db } = env.database;
  try {
    await seedThreads(db, { count: threads, projects: 10 });
    const tenant = await createTenant(db, "live");
    // The world's classifier on the live and the backfill queue, their caps as CDK context (npm
    // start: BACKFILL_MAX_CONCURRENCY, CLASSIFIER_BATCH_SIZE); this process's API and job start
    // reach it with the chat's and reclassify-start's variables.
    const world = await startWorldOn(
      { sqsEndpoint: env.sqsEndpoint, database: { url: process.env.DATABASE_URL as string } },
      {
        label: "bench-pipeline",
        context: { "kapa:backfillMaxConcurrency": BACKFILL_MAX_CONCURRENCY, "kapa:classifierBatchSize": BATCH_SIZE },
        consumers: ["classifier"],
        deviations: { visibilityTimeoutSeconds: 30 },
        localEnv: { CLASSIFIER_DELAY_MS: String(CLASSIFIER_DELAY_MS) },
      },
    );
    world.actAs("chat");
    world.actAs("reclassify-start");
    const { backfill: repository, backfillExecutions } = await runtime();

    const started = Date.now();
    await startJob({ threads: repository, executions: backfillExecutions }, { projectId: null, scope: "unlabelled" });
    let firstLabelAt: number | null = null;
    const samples: Progress["samples"] = [];
    const liveLatencies: number[] = [];
    let nextLiveAt = started + 5_000;
    const asking: Promise<void>[] = [];
    for (;;) {
      const pending = await unlabelled(db);
      const now = Date.now();
      samples.push({ at: now, pending });
      if (firstLabelAt === null && pending < threads) firstLabelAt = now;
      if (pending === 0) break;
      if (now >= nextLiveAt && pending > IN_FLIGHT_CAP) {
        asking.push(liveLabelSeconds(db, env.url, tenant).then((seconds) => void liveLatencies.push(seconds)));
        nextLiveAt += 5_000;
      }
      await sleep(100);
    }
    const finished = Date.now();
    await Promise.all(asking);
    const backfillQueue = world.queueUrl("BackfillQueueUrl");
    const backfill = [...world.world.eventSources.values()].find((s) => s.settings.queueUrl === backfillQueue);
    const peak = backfill?.stats().peakConcurrency ?? 0;
    await world.stop();

    const result = summary({ threads, started, finished, firstLabelAt, samples, liveLatencies, peak });
    report("backfill-pipeline", [result], {
      ...result,
      target: {
        achieved_over_ideal_at_least: 0.95,
        live_label_seconds_below: 10,
        met: result.achieved_over_ideal_from_first_label >= 0.95 && result.live_label_seconds_max < 10,
      },
    });
  } finally {
    await closeRuntime();
    await env.close();
  }
}
