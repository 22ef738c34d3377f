import type { SqsApi } from "../platform/sqs-api.js";
import { type DeliveryMessage, MAX_SQS_DELAY_SECONDS } from "./model.js";

const BATCH = 10;
const ATTEMPTS = 3;
const IN_FLIGHT = 8;

/** One message: its body, the project that owns it (its fair-queue group) and its delay. */
export interface OutgoingMessage {
  body: string;
  projectId: string;
  delaySeconds?: number;
}

/**
 * SendMessageBatch with a MessageGroupId (the project) on each entry: on an SQS fair queue one
 * project's backlog does not hold back another's messages. Entries SQS reports as failed are
 * sent again; throws if some still fail (the caller's retry sends them again: at least once).
 */
export async function sendGrouped(sqs: SqsApi, queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
  const chunks: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += BATCH) chunks.push(messages.slice(i, i + BATCH));
  const sendChunk = async (chunk: readonly OutgoingMessage[]) => {
    let pending = chunk.map((m, n) => ({
      Id: String(n),
      MessageBody: m.body,
      MessageGroupId: m.projectId,
      DelaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.round(m.delaySeconds ?? 0))),
    }));
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      const out = await sqs.sendMessageBatch({ QueueUrl: queueUrl, Entries: pending });
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
    if (pending.length > 0) throw new Error(`SQS refused ${pending.length} webhook message(s)`);
  };
  // A few calls at a time: a dispatched batch of events reaches the queue in a few round trips.
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) await sendChunk(chunks[next++] as OutgoingMessage[]);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chunks.length) }, worker));
}

/** The webhook queue: (event, endpoint) deliveries, grouped by project. */
export class DeliveryQueue {
  constructor(
    private readonly sqs: SqsApi,
    private readonly queueUrl: string,
  ) {}

  send(deliveries: readonly DeliveryMessage[], delaySeconds = 0): Promise<void> {
    return sendGrouped(
      this.sqs,
      this.queueUrl,
      deliveries.map((d) => ({ body: JSON.stringify(d), projectId: d.projectId, delaySeconds })),
    );
  }
}
