import { sql } from "drizzle-orm";
import { queueDepth } from "../cli/backfill-watch.js";
import { startLocalSqs, useLocalAws } from "../local/sqs.js";
import { seedThreads } from "../shared/admin/seed.js";
import { executionArn } from "../shared/backfill/executions.js";
import { startJob } from "../shared/backfill/service.js";
import { closeRuntime, runtime } from "../shared/composition/runtime.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { startWorldOn } from "../test/support/local-world.js";
import { benchEnvironment, processCpuSeconds, processRssMb, report } from "./lib.js";

interface SqsProcess {
  endpoint: string;
  /** Resident memory of the emulator's process, MB. */
  rssMb(): number;
  /** CPU seconds the emulator's process has used. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The local SQS (a process of its own), with its memory and CPU read from /proc. */
async function startSqsProcess(): Promise<SqsProcess> {
  const server = await startLocalSqs(0);
  return {
    endpoint: server.endpoint,
    rssMb: () => processRssMb(server.pid),
    cpuSeconds: () => processCpuSeconds(server.pid),
    stop: () => server.stop(),
  };
}

const mb = (bytes: number) => Math.round(bytes / 1e6);

/**
 * The state machine's sizes for a run: cdk.json's (pages of 1,000,000 ids, ranges of 100,000, 10
 * ranges at once) from 1M threads; below, ranges of a tenth of the threads, so that every run has
 * 10 ranges in flight and their memory compares at equal concurrency.
 */
function contextFor(threads: number): Record<string, number> {
  if (threads >= 1_000_000) return {};
  const range = Math.ceil(threads / 10);
  return { "kapa:backfillRangeSize": range, "kapa:backfillPageSize": range * 10 };
}

/**
 * One run: N unlabelled threads (spread over 100 projects), the backfill state machine as CDK
 * synthesizes it on the local Step Functions, its Plan and EnqueueRange tasks in Lambda-like
 * worker threads of this process, sending to the local SQS in another process. No consumer: the
 * clock runs from StartExecution until the execution has succeeded, i.e. every id is on the
 * queue. Memory (of the whole process, workers included) is sampled every 50 ms.
 */
async function run(threads: number, sqs: SqsProcess) {
  const env = await benchEnvironment({ LOG_LEVEL: "silent" });
  useLocalAws({ sqs: sqs.endpoint });
  try {
    const seedStarted = Date.now();
    await seedThreads(env.database.db, { count: threads, projects: 100 });
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    await env.database.db.execute(sql`vacuum analyze threads`);
    await closeRuntime();
    // The local world with nothing consuming: the clock stops when every id is enqueued.
    const world = await startWorldOn(
      { sqsEndpoint: sqs.endpoint, database: { url: process.env.DATABASE_URL as string } },
      {
        label: `bench-backfill-${threads}`,
        context: contextFor(threads),
        consumers: [],
        deviations: { visibilityTimeoutSeconds: 300 },
      },
    );
    world.actAs("reclassify-start");
    const stateMachineArn = [...world.world.stateMachines.values()][0] as string;
    const { backfill: repository, backfillExecutions } = await runtime();
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      peak = Math.max(peak, usage.rss);
      peakHeap = Math.max(peakHeap, usage.heapUsed);
    }, 50);
    const cpuBefore = process.cpuUsage();
    const sqsCpuBefore = sqs.cpuSeconds();
    const started = process.hrtime.bigint();
    const job = await startJob(
      { threads: repository, executions: backfillExecutions },
      { projectId: null, scope: "unlabelled" },
    );
    const execution = await world.world.stepFunctions.waitFor(executionArn(stateMachineArn, job.execution));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpuBefore);
    const sqsCpu = sqs.cpuSeconds() - sqsCpuBefore;
    const client = createSqsClient();
    const depth = await queueDepth(client, world.queueUrl("BackfillQueueUrl"));
    client.destroy();
    const output = JSON.parse(execution.output ?? "{}") as { enqueued?: number; pages?: number };
    const result = {
      threads,
      range_size: contextFor(threads)["kapa:backfillRangeSize"] ?? 100_000,
      status: execution.status,
      ...(execution.error ? { error: `${execution.error}: ${execution.cause}` } : {}),
      seconds: Math.round(seconds * 10) / 10,
      ids_per_second: Math.round(threads / seconds),
      enqueued: output.enqueued ?? null,
      on_queue: depth.visible,
      plan_pages: output.pages ?? null,
      map_iterations: execution.events.MapIterationStarted ?? 0,
      runner_rss_baseline_mb: mb(baseline),
      runner_rss_peak_mb: mb(peak),
      runner_rss_growth_mb: mb(peak - baseline),
      runner_heap_peak_mb: mb(peakHeap),
      sqs_process_rss_mb: sqs.rssMb(),
      runner_cpu_seconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      sqs_process_cpu_seconds: Math.round(sqsCpu * 10) / 10,
      seed_seconds: seedSeconds,
    };
    await world.stop();
    return result;
  } finally {
    await closeRuntime();
    await env.close();
  }
}

export async function benchBackfillEnqueue(): Promise<void> {
  const sizes = (process.env.BENCH_BACKFILL_SIZES ?? "100000,1000000").split(",").map(Number);
  const sqs = await startSqsProcess();
  try {
    const rows = [];
    for (const size of sizes) rows.push(await run(size, sqs));
    const small = rows[0];
    const large = rows.at(-1);
    const flat = small && large ? Math.round((large.runner_rss_peak_mb / small.runner_rss_peak_mb) * 100) / 100 : null;
    report("backfill-enqueue", rows, {
      runs: rows,
      rss_peak_ratio_large_over_small: flat,
      target: {
        seconds_at_most_for_1m: 60,
        memory: "flat in N",
        met: Boolean(large && large.threads >= 1_000_000 && large.seconds <= 60 && flat !== null && flat < 1.3),
      },
    });
  } finally {
    await sqs.stop();
  }
}
