import type { SQSBatchResponse } from "aws-lambda";
import { logger } from "../platform/logger.js";
import { consumeRecords, type QueueRecord } from "../platform/sqs-consumer.js";
import { isSuccess, type PostOptions, postDelivery } from "./http-post.js";
import { type AttemptResult, type DeliveryMessage, deliveryMessage, MAX_SQS_DELAY_SECONDS } from "./model.js";
import type { DeliveryQueue, OutgoingMessage } from "./queue.js";

export interface SenderDeps {
  post: PostOptions;
  /** The webhook queue: a retry not yet due goes back on it. */
  deliveries: DeliveryQueue;
  /** Where each attempt's outcome goes (the recorder, which has the database, writes it down). */
  results: { send(messages: readonly OutgoingMessage[]): Promise<void> };
  now?: () => Date;
}

/**
 * After an endpoint timed out or refused a connection, this instance holds its other deliveries
 * back (to the queue, delayed, not attempted) for this long: a hanging endpoint then takes one
 * of the sender's slots per instance, not all of them, and the other endpoints keep theirs.
 */
export const ENDPOINT_HOLD_SECONDS = 30;
const held = new Map<string, number>();

function holdIfUnreachable(endpointId: string, error: string | null, now: number): void {
  if (error && !error.startsWith("refused") && !error.startsWith("redirect")) {
    held.set(endpointId, now + ENDPOINT_HOLD_SECONDS * 1000);
  }
}

export type SenderRecord = QueueRecord;

/**
 * Delivers one (event, endpoint) message. A retry whose time has not come (SQS delays a message
 * at most 15 minutes) goes back to the queue for the rest of its wait; otherwise the attempt is
 * made and its outcome sent to the results queue.
 */
export async function sendOne(record: SenderRecord, deps: SenderDeps): Promise<AttemptResult | null> {
  const message: DeliveryMessage = deliveryMessage.parse(JSON.parse(record.body));
  const now = (deps.now ?? (() => new Date()))();
  const waitSeconds = message.notBefore ? (Date.parse(message.notBefore) - now.getTime()) / 1000 : 0;
  if (waitSeconds >= 1) {
    await deps.deliveries.send([message], Math.min(waitSeconds, MAX_SQS_DELAY_SECONDS));
    return null;
  }
  const holdUntil = held.get(message.endpointId) ?? 0;
  if (holdUntil > now.getTime()) {
    await deps.deliveries.send([message], Math.ceil((holdUntil - now.getTime()) / 1000));
    return null;
  }
  const outcome = await postDelivery(message, deps.post);
  if (outcome.statusCode === null) holdIfUnreachable(message.endpointId, outcome.error, Date.now());
  const result: AttemptResult = { delivery: message, ...outcome, at: now.toISOString() };
  await deps.results.send([{ body: JSON.stringify(result), projectId: message.projectId }]);
  if (!isSuccess(outcome)) {
    logger.info("webhook delivery failed", {
      endpointId: message.endpointId,
      eventId: message.eventId,
      attempt: message.attempt,
      statusCode: outcome.statusCode,
      error: outcome.error,
    });
  }
  return result;
}

/**
 * A batch of deliveries, each on its own (one slow endpoint holds only its own slot for at most
 * the timeout); the ones that could not be handed on are reported as failed items, for SQS to
 * deliver again.
 */
export function sendBatch(records: readonly SenderRecord[], deps: SenderDeps): Promise<SQSBatchResponse> {
  const handle = async (record: SenderRecord) => {
    try {
      await sendOne(record, deps);
    } catch (error) {
      logger.error("webhook message not handled", { messageId: record.messageId, error });
      throw error;
    }
  };
  return consumeRecords(records, handle, { inParallel: true });
}
