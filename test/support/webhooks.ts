import http from "node:http";
import type { AddressInfo } from "node:net";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Webhook } from "standardwebhooks";
import type { Db } from "../../shared/db/client.js";
import { DeliveryStore } from "../../shared/webhooks/delivery-store.js";
import { dispatchOnce } from "../../shared/webhooks/dispatcher.js";
import { MessageSeal } from "../../shared/webhooks/message-seal.js";
import { DeliveryQueue, sendGrouped } from "../../shared/webhooks/queue.js";
import { recordResult } from "../../shared/webhooks/recorder.js";
import { type SenderDeps, sendBatch } from "../../shared/webhooks/sender.js";
import type { HostResolver } from "../../shared/webhooks/url-policy.js";
import { createTestQueue, testSqs } from "./sqs.js";

/** What a receiver got, verified with the standardwebhooks package. */
export interface Received {
  path: string;
  webhookId: string;
  type: string;
  data: Record<string, unknown>;
  /** Signatures that verified (one per secret that verified). */
  verified: boolean;
}

export type Behaviour = "ok" | "fail" | "hang" | { failFirst: number } | { redirectTo: string };

/**
 * A real HTTP receiver on loopback: each path has a secret (set once the endpoint exists) and a
 * behaviour; every request is verified with `standardwebhooks` before it is answered.
 */
export async function startReceiver() {
  const secrets = new Map<string, string>();
  const behaviours = new Map<string, Behaviour>();
  const counts = new Map<string, number>();
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const body = Buffer.concat(chunks).toString("utf8");
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const behaviour = behaviours.get(path) ?? "ok";
      if (behaviour === "hang") {
        hanging.add(res);
        return;
      }
      if (typeof behaviour === "object" && "redirectTo" in behaviour) {
        res.writeHead(302, { location: behaviour.redirectTo }).end();
        return;
      }
      const failing = behaviour === "fail" || (typeof behaviour === "object" && n <= behaviour.failFirst);
      if (failing) {
        res.writeHead(500).end("down");
        return;
      }
      const secret = secrets.get(path);
      let verified = false;
      let parsed = { type: "", data: {} as Record<string, unknown> };
      try {
        parsed = new Webhook(secret ?? "whsec_").verify(body, req.headers as Record<string, string>) as typeof parsed;
        verified = true;
      } catch {
        parsed = JSON.parse(body) as typeof parsed;
      }
      received.push({
        path,
        webhookId: String(req.headers["webhook-id"]),
        type: parsed.type,
        data: parsed.data,
        verified,
      });
      res.writeHead(verified ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    counts,
    endpoint(path: string, behaviour: Behaviour = "ok") {
      behaviours.set(path, behaviour);
      return `${base}${path}`;
    },
    setSecret(path: string, secret: string) {
      secrets.set(path, secret);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The message key of the tests' pipelines (the local world derives its own). */
export const TEST_MESSAGE_KEY = "a test webhook message key, 32 characters or more";

async function receive(queueUrl: string): Promise<{ messageId: string; body: string }[]> {
  const out = await testSqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  const messages = out.Messages ?? [];
  if (messages.length > 0) {
    await testSqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
  return messages.map((m) => ({ messageId: m.MessageId as string, body: m.Body as string }));
}

export type DeliveryPipeline = Awaited<ReturnType<typeof deliveryPipeline>>;

/**
 * The delivery pipeline in this process, on queues of the test's own (named after `label`):
 * dispatcher, sender and recorder, each run as its Lambda would (`step` runs one round of each).
 */
export async function deliveryPipeline(options: {
  db: Db;
  label: string;
  disableAfter?: number;
  resolve?: HostResolver;
  timeoutMs?: number;
}) {
  const queueUrl = (await createTestQueue(options.label)).queueUrl;
  const resultsUrl = (await createTestQueue(`${options.label}-results`)).queueUrl;
  const store = new DeliveryStore(options.db, options.disableAfter);
  const seal = new MessageSeal(TEST_MESSAGE_KEY);
  const deliveries = new DeliveryQueue(testSqs, queueUrl, seal);
  const sender: SenderDeps = {
    post: { policy: { allowLoopback: true }, resolve: options.resolve, timeoutMs: options.timeoutMs },
    seal,
    deliveries,
    results: { send: (messages) => sendGrouped(testSqs, resultsUrl, messages) },
  };
  const recorder = { store, deliveries, retryScale: 0.0001 };
  return {
    store,
    deliveries,
    sender,
    async step(): Promise<number> {
      const dispatched = await dispatchOnce(store, deliveries);
      const sends = await receive(queueUrl);
      await sendBatch(sends, sender);
      const results = await receive(resultsUrl);
      for (const r of results) await recordResult(r.body, recorder);
      return dispatched + sends.length + results.length;
    },
  };
}
