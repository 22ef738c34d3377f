import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";

/**
 * Every process's SQS client (the SDK's, loaded on first use) and the one way our code sends
 * messages: in batches of ten, each message tagged with its tenant (the SQS `MessageGroupId` of a
 * fair queue). Nothing here imports the SDK's client statically: esbuild hoists a static import to
 * the bundle's top, and the API functions that never send must not load it at init.
 */

export const SQS_MAX_ATTEMPTS = 3;
/**
 * Connecting may take this long, the wait for a free socket of the pool included: it leaves room
 * for a busy process (a 1 s timeout failed requests under load that were never sent). The chat
 * never waits on a send for long whatever these are (it races the send against a short grace;
 * the sweeper catches up on what was not sent).
 */
export const SQS_CONNECTION_TIMEOUT_MS = 5000;
/** A response may take this long (long polls go through local/sqs-poller-client.ts, not this client). */
export const SQS_REQUEST_TIMEOUT_MS = 10_000;
/** Sockets kept alive per process: a Lambda environment sends one request at a time, a sweeper a few dozen. */
const MAX_SOCKETS = 50;

export interface SqsClientOptions {
  /** @default AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, else the region's endpoint (the SDK's rules) */
  endpoint?: string;
  /** @default SQS_MAX_ATTEMPTS */
  maxAttempts?: number;
  /** @default SQS_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

/**
 * The SDK's client with our attempts, timeouts and a kept-alive socket pool. It keeps the SDK's
 * MD5 checks of what SQS received and returned. Requests go to the configured endpoint (the
 * regional one in AWS, AWS_ENDPOINT_URL_SQS locally) rather than to the host named in a queue
 * URL, which an emulator may spell in a way that does not resolve.
 */
export function sqsClientConfig(options: SqsClientOptions = {}): SQSClientConfig {
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
  return {
    useQueueUrlAsEndpoint: false,
    maxAttempts: options.maxAttempts ?? SQS_MAX_ATTEMPTS,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    requestHandler: {
      connectionTimeout: SQS_CONNECTION_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? SQS_REQUEST_TIMEOUT_MS,
      // Without it the SDK only logs a request past its timeout, and a black-holed send hangs.
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  };
}

type SqsModule = typeof import("@aws-sdk/client-sqs");
let sqsModule: SqsModule | undefined;
/** The SDK's SQS module, imported once; after that, no await on the send's path. */
const loadSqsModule = async (): Promise<SqsModule> => {
  sqsModule ??= await import("@aws-sdk/client-sqs");
  return sqsModule;
};

/** The SDK's SQS client, created (and its module loaded) at the first send: one per process. */
export class LazySqsClient {
  private client: SQSClient | undefined;
  private loading: Promise<SQSClient> | undefined;

  constructor(private readonly options: SqsClientOptions = {}) {}

  /** The client, once created (a send need not wait for a promise then). */
  get now(): SQSClient | undefined {
    return this.client;
  }

  get(): Promise<SQSClient> {
    this.loading ??= loadSqsModule().then(
      ({ SQSClient }) => {
        this.client = new SQSClient(sqsClientConfig(this.options));
        return this.client;
      },
      (error: unknown) => {
        this.loading = undefined; // the next send tries again
        throw error;
      },
    );
    return this.loading;
  }

  /** Closes the kept-alive sockets, if the client was ever created. */
  destroy(): void {
    this.client?.destroy();
  }
}

/** What a queue sends with: the lazy client of a function, or a client a tool or test built at once. */
export type SqsSender = SQSClient | LazySqsClient;

/** A message to send: its body, and the tenant it belongs to (its fair-queue group). */
export interface OutgoingMessage {
  body: string;
  /**
   * The SQS MessageGroupId. On a standard queue it makes the queue fair: SQS prefers the messages
   * of quiet groups while one group has a disproportionate share in flight.
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues-detailed.html
   */
  groupId?: string;
  /** Hold this message back this long (SQS DelaySeconds, at most 900); else the call's delay. */
  delaySeconds?: number;
}

/** SendMessageBatch takes at most ten entries. */
export const SQS_BATCH_SIZE = 10;
const ATTEMPTS = 3;
/** SendMessageBatch calls one sendMessageBatches call has in flight at most. */
const REQUESTS_IN_FLIGHT = 32;

/**
 * Sends every message to the queue, ten per SendMessageBatch call, resending the entries SQS
 * reports as failed (SendMessageBatch succeeds as a call even when some entries do not). Throws
 * when an entry still fails after the last attempt: the caller's retry then sends it again, so
 * consumers must be idempotent (they are: every message here describes work that is claimed).
 */
export async function sendMessageBatches(
  sender: SqsSender,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  what = "message",
  /** Hold the messages back this long (SQS DelaySeconds, at most 900). */
  delaySeconds?: number,
): Promise<void> {
  const sqs = sender instanceof LazySqsClient ? (sender.now ?? (await sender.get())) : sender;
  const { SendMessageBatchCommand } = sqsModule ?? (await loadSqsModule());
  const chunks: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += SQS_BATCH_SIZE) chunks.push(messages.slice(i, i + SQS_BATCH_SIZE));
  const sendChunk = async (chunk: OutgoingMessage[]) => {
    let pending = chunk.map((message, i) => ({
      Id: String(i),
      MessageBody: message.body,
      MessageGroupId: message.groupId,
      DelaySeconds: message.delaySeconds ?? delaySeconds,
    }));
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
    while (next < chunks.length) await sendChunk(chunks[next++] as OutgoingMessage[]);
  };
  await Promise.all(Array.from({ length: Math.min(REQUESTS_IN_FLIGHT, chunks.length) }, worker));
}
