import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";

/**
 * The SQS client settings of every process. Requests go to the configured endpoint (the regional
 * one in AWS, AWS_ENDPOINT_URL_SQS locally) rather than to the host named in a queue URL, which an
 * emulator may spell in a way that does not resolve. The chat never waits on a send for long
 * whatever these timeouts are (it races the send against a short grace; the sweeper catches up on
 * what was not sent). The connection timeout counts the wait for a free socket of the client's
 * pool too, so it leaves room for a busy process (1 s failed requests under load that were never
 * sent).
 */
export const SQS_CLIENT_CONFIG: SQSClientConfig = {
  useQueueUrlAsEndpoint: false,
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 5000, requestTimeout: 10_000 },
};

/** An SQS client, or how to get one when it is first needed (see lazySqsClient). */
export type SqsClientSource = SQSClient | (() => Promise<SQSClient>);

/**
 * The SQS client, its SDK loaded on first use: a function that may send (the chat, a category
 * deletion) does not pay for loading the SDK at init, and one that never sends never loads it.
 * A dynamic import of an external package is kept as is by esbuild (a static one is hoisted into
 * the bundle's imports, loaded at init).
 */
export function lazySqsClient(): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => {
    client ??= loadSqsSdk().then(({ SQSClient }) => new SQSClient(SQS_CLIENT_CONFIG));
    return client;
  };
}

/** The SDK's module, imported once (a repeated import() still goes through the module resolver). */
let sqsSdk: Promise<typeof import("@aws-sdk/client-sqs")> | undefined;
const loadSqsSdk = () => {
  sqsSdk ??= import("@aws-sdk/client-sqs");
  return sqsSdk;
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
  source: SqsClientSource,
  queueUrl: string,
  bodies: readonly string[],
  what = "message",
  /** Hold the messages back this long (SQS DelaySeconds, at most 900). */
  delaySeconds?: number,
): Promise<void> {
  const sqs = typeof source === "function" ? await source() : source;
  const { SendMessageBatchCommand } = await loadSqsSdk();
  const chunks: string[][] = [];
  for (let i = 0; i < bodies.length; i += SQS_BATCH_SIZE) chunks.push(bodies.slice(i, i + SQS_BATCH_SIZE));
  const sendChunk = async (chunk: string[]) => {
    let pending = chunk.map((MessageBody, i) => ({ Id: String(i), MessageBody, DelaySeconds: delaySeconds }));
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
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
