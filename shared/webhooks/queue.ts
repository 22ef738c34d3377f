import { type SqsSender, sendMessageBatches } from "../platform/sqs-sender.js";
import type { MessageSeal } from "./message-seal.js";
import { type DeliveryMessage, MAX_SQS_DELAY_SECONDS, type OpenDelivery } from "./model.js";

/** One message: its body, the project that owns it (its fair-queue group) and its delay. */
export interface OutgoingMessage {
  body: string;
  projectId: string;
  delaySeconds?: number;
}

/**
 * Sends each message in its project's message group (SQS fair queues: one project's backlog does
 * not hold back another's), with its own delay; throws if some still fail after the retries (the
 * caller's retry sends them again: at least once).
 */
export function sendGrouped(sqs: SqsSender, queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
  return sendMessageBatches(
    sqs,
    queueUrl,
    messages.map((m) => ({
      body: m.body,
      groupId: m.projectId,
      delaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.round(m.delaySeconds ?? 0))),
    })),
    "webhook message",
  );
}

/** The webhook queue: (event, endpoint) deliveries, grouped by project, their secrets sealed. */
export class DeliveryQueue {
  constructor(
    private readonly sqs: SqsSender,
    private readonly queueUrl: string,
    private readonly seal: MessageSeal,
  ) {}

  /** New deliveries: their secrets are sealed here, on the way to the queue. */
  send(deliveries: readonly OpenDelivery[], delaySeconds = 0): Promise<void> {
    return this.resend(
      deliveries.map((d) => this.seal.seal(d)),
      delaySeconds,
    );
  }

  /** Sealed messages back to the queue as they are (a retry not yet due, a held endpoint's). */
  resend(deliveries: readonly DeliveryMessage[], delaySeconds = 0): Promise<void> {
    return sendGrouped(
      this.sqs,
      this.queueUrl,
      deliveries.map((d) => ({ body: JSON.stringify(d), projectId: d.projectId, delaySeconds })),
    );
  }
}
