import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import { loadStack, SHARED_CACHE_DIR } from "../local/template.js";
import { referencedId, topologyOf } from "../local/topology.js";
import { createTenant, type Tenant } from "../shared/admin/tenants.js";
import { SqsClassificationQueue } from "../shared/classification/queue.js";
import type { Db } from "../shared/db/client.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { WebhookEndpointsRepository } from "../shared/webhooks/repository.js";
import { newSecret } from "../shared/webhooks/service.js";
import { type BenchEnvironment, benchEnvironment, machineLoad, report, stats } from "./lib.js";
import { type Receiver, startReceiver } from "./webhooks-receiver.js";

/** Labels per project in a phase at the classifier's deployed rate, and in a burst. */
const SUSTAINED = Number(process.env.BENCH_WEBHOOKS_SUSTAINED ?? 750);
const BURST = Number(process.env.BENCH_WEBHOOKS_THREADS ?? 2000);
const WARM_UP_LABELS = 20;

/**
 * The classifier's full deployed rate, from the template: its live mapping's cap (invocations x
 * messages each, classified in parallel) at one label per CLASSIFIER_DELAY_MS each.
 */
async function classifierRate() {
  const stack = await loadStack({ cacheDir: SHARED_CACHE_DIR });
  const topology = topologyOf(stack);
  const liveId = referencedId(stack.template.Outputs?.ClassificationQueueUrl?.Value);
  const mapping = topology.eventSources.find((m) => m.queueId === liveId);
  const delayMs = Number(
    mapping ? topology.functions[mapping.functionId]?.environment.CLASSIFIER_DELAY_MS : Number.NaN,
  );
  if (!mapping?.maxConcurrency || !(delayMs > 0)) throw new Error("the template's live classifier has no cap or delay");
  const inFlight = mapping.maxConcurrency * mapping.batchSize;
  return { liveQueueId: liveId as string, inFlight, delayMs, labelsPerSecond: (inFlight * 1000) / delayMs };
}

interface World {
  queues: Record<string, { url: string }>;
  child: ChildProcess;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** bench/webhooks-world.ts in a child process: the whole local runtime, which the kill phase SIGKILLs. */
async function startWorld(env: BenchEnvironment, prefix: string, extraEnv: Record<string, string>): Promise<World> {
  const { CLASSIFIER_DELAY_MS: _template, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", "bench/webhooks-world.ts"], {
    env: {
      ...inherited,
      LOG_LEVEL: "silent",
      BENCH_WORLD_DATABASE_URL: process.env.DATABASE_URL,
      BENCH_WORLD_SQS: env.sqsEndpoint,
      BENCH_WORLD_PREFIX: prefix,
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (l) => l.startsWith('{"ready"') && resolve(l));
    child.once("exit", (code) => reject(new Error(`the bench world exited (${code}) before it was ready`)));
  });
  const { queues } = JSON.parse(line) as { queues: World["queues"] };
  return {
    queues,
    child,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function subscribe(db: Db, receiver: Receiver, tenant: Tenant, path: string, hang = false) {
  const secret = newSecret();
  const url = `${receiver.base}${path}`;
  await new WebhookEndpointsRepository(db).create(tenant.projectId, { url, events: ["thread.labelled"] }, secret);
  receiver.secrets.set(path, secret);
  if (hang) receiver.hang.add(path);
}

async function seed(db: Db, tenant: Tenant, n: number) {
  const rows = await db.execute<{ id: string }>(sql`
    insert into threads (project_id, first_question)
    select ${tenant.projectId}, 'How do I configure feature number ' || g || '?' from generate_series(1, ${n}) g
    returning id`);
  return rows.map((r) => ({ threadId: r.id, projectId: tenant.projectId, reason: "backfill" as const }));
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** One request of each project in turn: both projects' labels arrive over the whole phase. */
const interleave = <T>(a: T[], b: T[]) => a.flatMap((x, i) => (b[i] ? [x, b[i]] : [x])).concat(b.slice(a.length));

interface Phase {
  name: string;
  labels: number;
  /** CLASSIFIER_DELAY_MS of the world: the template's (undefined) or 0, a burst. */
  classifierDelayMs?: string;
  beside?: "hanging";
  /** SIGKILL the world after this many of the healthy project's deliveries, then start it again. */
  killAfter?: number;
}

/**
 * A few labels through the fresh world first: at the classifier's full rate in AWS the functions
 * are warm, and a local cold start (tsx compiling each worker's modules) is not the path's latency.
 */
async function warmUp(db: Db, receiver: Receiver, live: SqsClassificationQueue, name: string) {
  const tenant = await createTenant(db, `${name}-warm-up`);
  await subscribe(db, receiver, tenant, `/${name}-warm-up`);
  await live.send(await seed(db, tenant, WARM_UP_LABELS));
  const warm = await until(() => receiver.delivered(`/${name}-warm-up`).length >= WARM_UP_LABELS, 300_000);
  if (!warm) throw new Error(`${name}: the warm-up labels were not delivered`);
}

/** The label rate the classifier reached for the project: events over the span of their labelled_at. */
async function labelRate(db: Db, projectId: string): Promise<number> {
  const [row] = await db.execute<{ n: number; span: number }>(sql`
    select count(*)::int as n, extract(epoch from max((payload->>'labelled_at')::timestamptz)
      - min((payload->>'labelled_at')::timestamptz))::float as span
    from webhook_events where project_id = ${projectId}`);
  return row && row.span > 0 ? Math.round(((row.n - 1) / row.span) * 10) / 10 : 0;
}

async function runPhase(env: BenchEnvironment, receiver: Receiver, phase: Phase, liveQueueId: string) {
  const db = env.database.db;
  const path = `/${phase.name}`;
  const healthy = await createTenant(db, `${phase.name}-healthy`);
  await subscribe(db, receiver, healthy, path);
  let requests = await seed(db, healthy, phase.labels);
  if (phase.beside) {
    const noisy = await createTenant(db, `${phase.name}-noisy`);
    await subscribe(db, receiver, noisy, `${path}-hang`, true);
    requests = interleave(requests, await seed(db, noisy, phase.labels));
  }
  const prefix = `${phase.name}-${process.pid}-`;
  const worldEnv: Record<string, string> =
    phase.classifierDelayMs === undefined ? {} : { CLASSIFIER_DELAY_MS: phase.classifierDelayMs };
  let world = await startWorld(env, prefix, worldEnv);
  const sqs = createSqsClient();
  const live = new SqsClassificationQueue(sqs, world.queues[liveQueueId]?.url as string);
  await warmUp(db, receiver, live, phase.name);
  await live.send(requests);
  sqs.destroy();
  const started = Date.now();
  let killed = 0;
  if (phase.killAfter) {
    await until(() => receiver.delivered(path).length >= (phase.killAfter as number), 120_000);
    await world.kill();
    killed++;
    world = await startWorld(env, prefix, worldEnv);
  }
  const complete = await until(() => receiver.delivered(path).length >= phase.labels, 300_000);
  const seconds = (Date.now() - started) / 1000;
  await world.stop();
  const [events] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from webhook_events where project_id = ${healthy.projectId}`,
  );
  const latencies = receiver.delivered(path);
  const s = stats(latencies);
  return {
    phase: phase.name,
    labels_per_s: await labelRate(db, healthy.projectId),
    events: events?.n ?? 0,
    delivered_distinct: latencies.length,
    receipts: receiver.receiptsOf(path),
    lost: (events?.n ?? 0) - latencies.length,
    complete,
    sigkilled: killed,
    seconds: Math.round(seconds * 10) / 10,
    p50_ms: Math.round(s.p50),
    p99_ms: Math.round(s.p99),
    max_ms: Math.round(s.max),
    load_average: machineLoad().load_average[0],
  };
}

/**
 * Event-to-delivery latency of a healthy endpoint (the label's write to its first verified
 * receipt) with labels arriving at the classifier's full deployed rate (from the template), the
 * same beside another project's hanging endpoint, a burst (the classifier without its delay),
 * and a burst whose runtime (a child process: classifier, dispatcher, sender, recorder) is
 * SIGKILLed a third of the way and started again: every outbox event must arrive at least once.
 */
export async function benchWebhooks(): Promise<void> {
  const loadBefore = machineLoad().load_average;
  const rate = await classifierRate();
  const env = await benchEnvironment({ DB_POOL_MAX: "10" });
  const receiver = await startReceiver();
  const only = process.env.BENCH_WEBHOOKS_PHASES?.split(",");
  const all: Phase[] = [
    { name: "full-rate", labels: SUSTAINED },
    { name: "full-rate-beside-hanging", labels: SUSTAINED, beside: "hanging" },
    { name: "burst", labels: BURST, classifierDelayMs: "0" },
    { name: "burst-sigkilled", labels: BURST, classifierDelayMs: "0", killAfter: Math.floor(BURST / 3) },
  ];
  const phases = all.filter((p) => !only || only.includes(p.name));
  try {
    const rows = [];
    for (const phase of phases) rows.push(await runPhase(env, receiver, phase, rate.liveQueueId));
    const alone = rows.find((r) => r.phase === "full-rate");
    const beside = rows.find((r) => r.phase === "full-rate-beside-hanging");
    report("webhooks", rows, {
      rows,
      classifier_full_rate: rate,
      p99_beside_hanging_over_alone: alone && beside ? Math.round((beside.p99_ms / alone.p99_ms) * 100) / 100 : null,
      load_average_before: loadBefore,
      load_average_after: machineLoad().load_average,
    });
  } finally {
    await receiver.close();
    await env.close();
  }
}
