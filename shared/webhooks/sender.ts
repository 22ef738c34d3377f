import { logger } from "../platform/logger.js";
import type { QueueRecord } from "../platform/sqs-consumer.js";
import { isSuccess, type PostOptions, type PostOutcome, postDelivery } from "./http-post.js";
import type { MessageSeal } from "./message-seal.js";
import { type AttemptResult, type DeliveryMessage, deliveryMessage, MAX_SQS_DELAY_SECONDS } from "./model.js";
import type { DeliveryQueue, OutgoingMessage } from "./queue.js";

export interface SenderDeps {
  post: PostOptions;
  /** Opens the messages' sealed secrets (the webhook message key). */
  seal: MessageSeal;
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
  if (error && !/^(refused|redirect|not sent)/.test(error)) {
    held.set(endpointId, now + ENDPOINT_HOLD_SECONDS * 1000);
  }
}

export type SenderRecord = QueueRecord;

/**
 * A message whose seal does not open was not made by a holder of the key for this URL and body
 * (or under a replaced key): nothing is posted, and the failed attempt makes the recorder send
 * the event again from the database, sealed afresh.
 */
async function attempt(message: DeliveryMessage, deps: SenderDeps): Promise<PostOutcome> {
  let secrets: string[];
  try {
    secrets = deps.seal.open(message);
  } catch (error) {
    return { statusCode: null, error: `not sent: ${(error as Error).message}`, durationMs: 0 };
  }
  return postDelivery(message, secrets, deps.post);
}

/**
 * Delivers one (event, endpoint) message. A retry whose time has not come (SQS delays a message
 * at most 15 minutes) goes back to the queue for the rest of its wait; otherwise the attempt is
 * made and its outcome returned (sendBatch hands the batch's outcomes to the results queue).
 */
export async function sendOne(record: SenderRecord, deps: SenderDeps): Promise<AttemptResult | null> {
  const message: DeliveryMessage = deliveryMessage.parse(JSON.parse(record.body));
  const now = (deps.now ?? (() => new Date()))();
  const waitSeconds = message.notBefore ? (Date.parse(message.notBefore) - now.getTime()) / 1000 : 0;
  if (waitSeconds >= 1) {
    await deps.deliveries.resend([message], Math.min(waitSeconds, MAX_SQS_DELAY_SECONDS));
    return null;
  }
  const holdUntil = held.get(message.endpointId) ?? 0;
  if (holdUntil > now.getTime()) {
    await deps.deliveries.resend([message], Math.ceil((holdUntil - now.getTime()) / 1000));
    return null;
  }
  const outcome = await attempt(message, deps);
  if (outcome.statusCode === null) holdIfUnreachable(message.endpointId, outcome.error, Date.now());
  const { eventId, endpointId, projectId, attempt: n, type } = message;
  const result: AttemptResult = {
    delivery: { eventId, endpointId, projectId, attempt: n, type },
    ...outcome,
    at: now.toISOString(),
  };
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
 * the timeout), then their outcomes to the results queue in one request; the ones that could not
 * be handed on are reported as failed items, for SQS to deliver again (at least once).
 */
// Not consumeRecords (platform/sqs-consumer.ts): the outcomes of the whole batch go to the results
// queue in one request after every delivery was attempted, so failures are known only at the end.
export async function sendBatch(
  records: readonly SenderRecord[],
  deps: SenderDeps,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const settled = await Promise.allSettled(records.map((r) => sendOne(r, deps)));
  const attempted = records.flatMap((record, i) => {
    const s = settled[i];
    return s?.status === "fulfilled" && s.value ? [{ record, result: s.value }] : [];
  });
  const outcomes = attempted.map(({ result }) => ({
    body: JSON.stringify(result),
    projectId: result.delivery.projectId,
  }));
  const unrecorded = await deps.results.send(outcomes).then(
    () => [],
    (error: unknown) => {
      logger.error("webhook outcomes not handed on", { error });
      return attempted.map((a) => a.record);
    },
  );
  const failures = [...records.filter((_, i) => settled[i]?.status === "rejected"), ...unrecorded];
  for (const [i, s] of settled.entries()) {
    if (s.status === "rejected") logger.error("webhook message not handled", { error: s.reason, index: i });
  }
  return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
}
