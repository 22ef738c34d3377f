import http from "node:http";
import type { AddressInfo } from "node:net";
import type { SQSEvent } from "aws-lambda";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { SENDER_BATCH_SIZE, SENDER_MAX_CONCURRENCY } from "../infra/constructs/webhooks.js";
import { type EventSource, startEventSource } from "../local/event-source.js";
import { createQueueWithDlq } from "../local/sqs.js";
import { createTenant, type Tenant } from "../shared/admin/tenants.js";
import { SqsClassificationQueue } from "../shared/classification/queue.js";
import type { Db } from "../shared/db/client.js";
import { createSqsClient } from "../shared/platform/sqs-client.js";
import { DeliveryStore } from "../shared/webhooks/delivery-store.js";
import { dispatchUntil } from "../shared/webhooks/dispatcher.js";
import { DeliveryQueue, sendGrouped } from "../shared/webhooks/queue.js";
import { recordResult } from "../shared/webhooks/recorder.js";
import { WebhookEndpointsRepository } from "../shared/webhooks/repository.js";
import { sendBatch } from "../shared/webhooks/sender.js";
import { newSecret } from "../shared/webhooks/service.js";
import { startWorldOn } from "../test/support/local-world.js";
import { type BenchEnvironment, benchEnvironment, machineLoad, report, stats } from "./lib.js";

const THREADS = Number(process.env.BENCH_WEBHOOKS_THREADS ?? 2000);
/** Visibility of the bench's webhook queues: how soon a crashed run's in-flight messages come back. */
const VISIBILITY_SECONDS = 20;

/** A verifying receiver; `hang` paths never answer. First receipt time per webhook-id. */
async function startReceiver() {
  const secrets = new Map<string, string>();
  const hang = new Set<string>();
  const first = new Map<string, { path: string; latencyMs: number }>();
  let receipts = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (hang.has(path)) return;
      const body = Buffer.concat(chunks).toString("utf8");
      const event = new Webhook(secrets.get(path) as string).verify(body, req.headers as Record<string, string>) as {
        data: { labelled_at: string };
      };
      receipts++;
      const id = String(req.headers["webhook-id"]);
      if (!first.has(id)) first.set(id, { path, latencyMs: Date.now() - Date.parse(event.data.labelled_at) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    secrets,
    hang,
    first,
    receipts: () => receipts,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** The webhook side as the local world runs it: dispatcher loop, sender and recorder event sources. */
async function startDelivery(db: Db, queueUrl: string, resultsUrl: string) {
  const sqs = createSqsClient();
  const store = new DeliveryStore(db);
  const deliveries = new DeliveryQueue(sqs, queueUrl);
  let killed = false;
  let deadline = Number.POSITIVE_INFINITY;
  const dispatching = (async () => {
    while (!killed) await dispatchUntil(store, deliveries, Math.min(deadline, Date.now() + 1000));
  })();
  const sender = {
    post: { policy: { allowLoopback: true } },
    deliveries,
    results: { send: (m: Parameters<typeof sendGrouped>[2]) => sendGrouped(sqs, resultsUrl, m) },
  };
  const crashable =
    <T>(fn: (event: SQSEvent) => Promise<T>) =>
    async (event: SQSEvent) => {
      // A killed runtime handles nothing more: what it received comes back after the visibility timeout.
      if (killed) throw new Error("killed");
      return fn(event);
    };
  const sources: EventSource[] = [
    startEventSource({
      queueUrl,
      batchSize: SENDER_BATCH_SIZE,
      maxConcurrency: SENDER_MAX_CONCURRENCY,
      reportBatchItemFailures: true,
      handler: crashable((event) =>
        sendBatch(
          event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
          sender,
        ),
      ),
    }),
    startEventSource({
      queueUrl: resultsUrl,
      batchSize: 10,
      maxConcurrency: 2,
      reportBatchItemFailures: true,
      handler: crashable(async (event) => {
        for (const r of event.Records) await recordResult(r.body, { store, deliveries, retryScale: 0.01 });
        return { batchItemFailures: [] };
      }),
    }),
  ];
  return {
    async kill() {
      killed = true;
      deadline = 0;
      await dispatching;
      await Promise.all(sources.map((s) => s.stop()));
      sqs.destroy();
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

async function seed(db: Db, tenant: Tenant, n: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    insert into threads (project_id, first_question)
    select ${tenant.projectId}, 'How do I configure feature number ' || g || '?' from generate_series(1, ${n}) g
    returning id`);
  return rows.map((r) => r.id);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const delivered = (receiver: Receiver, path: string) => [...receiver.first.values()].filter((f) => f.path === path);

interface Phase {
  name: string;
  healthyPath: string;
  hangingPath?: string;
  killAfter?: number;
}

async function runPhase(
  env: BenchEnvironment,
  receiver: Receiver,
  phase: Phase,
  queues: { live: string; hooks: string; results: string },
) {
  const db = env.database.db;
  const healthy = await createTenant(db, `${phase.name}-healthy`);
  await subscribe(db, receiver, healthy, phase.healthyPath);
  const seeded = async (tenant: Tenant) =>
    (await seed(db, tenant, THREADS)).map((threadId) => ({ threadId, projectId: tenant.projectId }));
  const requests = await seeded(healthy);
  if (phase.hangingPath) {
    const noisy = await createTenant(db, `${phase.name}-noisy`);
    await subscribe(db, receiver, noisy, phase.hangingPath, true);
    requests.push(...(await seeded(noisy)));
  }
  const api = createSqsClient();
  await new SqsClassificationQueue(api, queues.live).send(
    requests.map((request) => ({ ...request, reason: "backfill" as const })),
  );
  api.destroy();
  let delivery = await startDelivery(db, queues.hooks, queues.results);
  const started = Date.now();
  let restarts = 0;
  if (phase.killAfter) {
    await until(() => delivered(receiver, phase.healthyPath).length >= (phase.killAfter as number), 120_000);
    await delivery.kill();
    restarts++;
    delivery = await startDelivery(db, queues.hooks, queues.results);
  }
  const complete = await until(() => delivered(receiver, phase.healthyPath).length >= THREADS, 180_000);
  const seconds = (Date.now() - started) / 1000;
  await delivery.kill();
  const events = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from webhook_events where project_id = ${healthy.projectId}`,
  );
  const latencies = delivered(receiver, phase.healthyPath).map((f) => f.latencyMs);
  const s = stats(latencies);
  return {
    phase: phase.name,
    events: events[0]?.n ?? 0,
    delivered_distinct: latencies.length,
    lost: (events[0]?.n ?? 0) - latencies.length,
    complete,
    restarts,
    seconds: Math.round(seconds * 10) / 10,
    p50_ms: Math.round(s.p50),
    p99_ms: Math.round(s.p99),
  };
}

/**
 * Event-to-delivery latency of a healthy endpoint (the label's write to its first verified
 * receipt) while the classifier labels at its full rate; the same beside another project's
 * hanging endpoint; and a run whose delivery side is killed mid-burst and restarted (lost events
 * counted: outbox rows of the project without a verified delivery).
 */
export async function benchWebhooks(): Promise<void> {
  const loadBefore = machineLoad().load_average;
  const env = await benchEnvironment({ DB_POOL_MAX: "10", CLASSIFIER_DELAY_MS: "0" });
  const receiver = await startReceiver();
  const sqs = createSqsClient();
  const queue = async (name: string) =>
    (
      await createQueueWithDlq(sqs, `bench-${name}-${process.pid}`, {
        visibilityTimeoutSeconds: VISIBILITY_SECONDS,
        maxReceiveCount: 5,
      })
    ).queueUrl;
  const queues = { hooks: await queue("webhooks"), results: await queue("webhook-results"), live: "" };
  // The world's classifier on its live queue (its delivery side is this benchmark's own, to kill).
  const world = await startWorldOn(
    { sqsEndpoint: env.sqsEndpoint, database: { url: process.env.DATABASE_URL as string } },
    { label: "bench-webhooks", consumers: ["classifier:ClassificationQueueUrl"] },
  );
  queues.live = world.queueUrl("ClassificationQueueUrl");
  try {
    const rows = [
      await runPhase(env, receiver, { name: "healthy", healthyPath: "/healthy" }, queues),
      await runPhase(env, receiver, { name: "beside-hanging", healthyPath: "/quiet", hangingPath: "/hang" }, queues),
      await runPhase(
        env,
        receiver,
        { name: "killed-mid-burst", healthyPath: "/restart", killAfter: Math.floor(THREADS / 3) },
        queues,
      ),
    ];
    const [healthy, beside] = rows;
    report("webhooks", rows, {
      rows,
      threads_per_project: THREADS,
      p99_beside_hanging_over_healthy:
        healthy && beside ? Math.round((beside.p99_ms / healthy.p99_ms) * 100) / 100 : null,
      receipts_total: receiver.receipts(),
      load_average_before: loadBefore,
      load_average_after: machineLoad().load_average,
    });
  } finally {
    await world.stop();
    await receiver.close();
    sqs.destroy();
    await env.close();
  }
}
