import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import { SQS_CONNECTION_TIMEOUT_MS, SQS_MAX_ATTEMPTS, SQS_REQUEST_TIMEOUT_MS, type SqsApi } from "./sqs-api.js";

/**
 * The SDK's SQS client settings, for the calls off the hot paths (creating queues, attributes,
 * redrives; sends, receives and deletes go through SqsApi), with SqsApi's attempts and timeouts.
 * Requests go to the configured endpoint (the regional one in AWS, AWS_ENDPOINT_URL_SQS locally)
 * rather than to the host named in a queue URL, which an emulator may spell in a way that does
 * not resolve.
 */
export const SQS_CLIENT_CONFIG: SQSClientConfig = {
  useQueueUrlAsEndpoint: false,
  maxAttempts: SQS_MAX_ATTEMPTS,
  requestHandler: { connectionTimeout: SQS_CONNECTION_TIMEOUT_MS, requestTimeout: SQS_REQUEST_TIMEOUT_MS },
};

/** SendMessageBatch takes at most ten entries. */
export const SQS_BATCH_SIZE = 10;
const ATTEMPTS = 3;
/** SendMessageBatch calls one sendMessageBatches call has in flight at most. */
const REQUESTS_IN_FLIGHT = 32;

/**
 * Sends every message body to the queue, ten per SendMessageBatch call, resending the entries SQS
 * reports as failed (SendMessageBatch succeeds as a call even when some entries do not). Throws
 * when an entry still fails after the last attempt: the caller's retry then sends it again, so
 * consumers must be idempotent (they are: every message here describes work that is claimed).
 */
export async function sendMessageBatches(
  sqs: SqsApi,
  queueUrl: string,
  bodies: readonly string[],
  what = "message",
  /** Hold the messages back this long (SQS DelaySeconds, at most 900). */
  delaySeconds?: number,
): Promise<void> {
  const chunks: string[][] = [];
  for (let i = 0; i < bodies.length; i += SQS_BATCH_SIZE) chunks.push(bodies.slice(i, i + SQS_BATCH_SIZE));
  const sendChunk = async (chunk: string[]) => {
    let pending = chunk.map((MessageBody, i) => ({ Id: String(i), MessageBody, DelaySeconds: delaySeconds }));
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      const out = await sqs.sendMessageBatch({ QueueUrl: queueUrl, Entries: pending });
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
    if (pending.length > 0) throw new Error(`SQS refused ${pending.length} ${what}(s) after ${ATTEMPTS} attempts`);
  };
  // A few requests at a time: thousands at once would wait for one of the client's sockets for
  // longer than its connection timeout (which counts that wait) and fail without being sent.
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) await sendChunk(chunks[next++] as string[]);
  };
  await Promise.all(Array.from({ length: Math.min(REQUESTS_IN_FLIGHT, chunks.length) }, worker));
}
