import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { createQueueWithDlq, type QueueWithDlq } from "../../local/sqs.js";
import { loadStack, SHARED_CACHE_DIR } from "../../local/template.js";
import { referencedId, topologyOf } from "../../local/topology.js";
import type { ParsedClassificationRequest } from "../../shared/classification/queue.js";
import { createSqsClient } from "../../shared/platform/sqs-eager-client.js";
import { sendMessageBatches } from "../../shared/platform/sqs-sender.js";

/** The SQS client as the handlers build it: creates the tests' queues, sends and reads them back. */
export const testSqs = createSqsClient();

/** A queue and DLQ of the test's own on the run's emulator. */
export async function createTestQueue(label: string, visibilityTimeoutSeconds = 1): Promise<QueueWithDlq> {
  const name = `kapa-test-${label}-${crypto.randomUUID().slice(0, 8)}`;
  // The redrive of the template's live queue (the test's visibility timeout is its own, shorter one).
  const stack = await loadStack({ cacheDir: SHARED_CACHE_DIR });
  const live = referencedId(stack.template.Outputs?.ClassificationQueueUrl?.Value);
  const maxReceiveCount = topologyOf(stack).queues[live ?? ""]?.redrive?.maxReceiveCount;
  if (!maxReceiveCount) throw new Error("The template's live queue has no dead-letter queue");
  return createQueueWithDlq(testSqs, name, { visibilityTimeoutSeconds, maxReceiveCount });
}

/** Receives and deletes everything on the queue now (delayed messages included, up to `waitMs`). */
export async function drainRequests(queueUrl: string, waitMs = 0): Promise<ParsedClassificationRequest[]> {
  return (await drainBodies(queueUrl, waitMs)).map((body) => JSON.parse(body) as ParsedClassificationRequest);
}

/** Below the client's request timeout (shared/platform/sqs.ts). */
const LONG_POLL_SECONDS = 5;

export async function drainBodies(queueUrl: string, waitMs = 0): Promise<string[]> {
  const bodies: string[] = [];
  const deadline = Date.now() + waitMs;
  for (;;) {
    // Long polling until the deadline: the emulator answers as soon as a message is there.
    const remainingMs = deadline - Date.now();
    const waitSeconds = remainingMs > 0 ? Math.min(LONG_POLL_SECONDS, Math.ceil(remainingMs / 1000)) : 0;
    const out = await testSqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      if (Date.now() >= deadline) return bodies;
      continue;
    }
    for (const m of messages) bodies.push(m.Body ?? "");
    await testSqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Queues `noisy` messages of one group, then `quiet` of another, and receives (10 at a time,
 * deleting each batch) until every quiet message came: resolves to how many messages were
 * received by then, and how many of them were the noisy group's.
 */
export async function receivesUntilQuiet(
  queueUrl: string,
  counts: { noisy: number; quiet: number },
  groups: { noisy?: string; quiet?: string } = { noisy: crypto.randomUUID(), quiet: crypto.randomUUID() },
): Promise<{ received: number; noisyReceived: number }> {
  const message = (group: string | undefined, kind: string) => (n: number) => ({
    body: JSON.stringify({ kind, n }),
    groupId: group,
  });
  await sendMessageBatches(testSqs, queueUrl, Array.from({ length: counts.noisy }, message(groups.noisy, "noisy")));
  await sendMessageBatches(testSqs, queueUrl, Array.from({ length: counts.quiet }, message(groups.quiet, "quiet")));
  let received = 0;
  let noisyReceived = 0;
  let quietReceived = 0;
  while (quietReceived < counts.quiet) {
    const out = await testSqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) throw new Error(`the queue ran dry after ${received} messages`);
    for (const m of messages) {
      received++;
      if ((JSON.parse(m.Body ?? "{}") as { kind?: string }).kind === "quiet") quietReceived++;
      else noisyReceived++;
    }
    await testSqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
  return { received, noisyReceived };
}
