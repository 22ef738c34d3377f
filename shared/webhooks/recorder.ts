import type { SQSBatchResponse } from "aws-lambda";
import { logger } from "../platform/logger.js";
import { consumeRecords, type QueueRecord } from "../platform/sqs-consumer.js";
import type { AttemptOutcome, DeliveryStore } from "./delivery-store.js";
import { deliveryFor } from "./dispatcher.js";
import { isSuccess } from "./http-post.js";
import { type AttemptResult, attemptResult, MAX_ATTEMPTS, MAX_SQS_DELAY_SECONDS, retryDelaySeconds } from "./model.js";
import type { DeliveryQueue } from "./queue.js";

export interface RecorderDeps {
  store: DeliveryStore;
  deliveries: DeliveryQueue;
  /** Multiplies the retry schedule (1 in AWS; a local setting shortens it for tests). */
  retryScale: number;
  random?: () => number;
  now?: () => Date;
}

export function outcomeOf(result: AttemptResult): AttemptOutcome {
  if (isSuccess(result)) return "succeeded";
  return result.delivery.attempt < MAX_ATTEMPTS ? "retrying" : "failed";
}

/**
 * Writes an attempt down and, when it failed and attempts remain, schedules the next one with
 * the event and the endpoint as the database has them (its URL, its secrets; none when it was
 * deleted or disabled): nothing of a retry comes from the results queue but which delivery.
 */
export async function recordResult(body: string, deps: RecorderDeps): Promise<void> {
  const result = attemptResult.parse(JSON.parse(body));
  const outcome = outcomeOf(result);
  const endpoint = await deps.store.recordAttempt(result, outcome);
  if (outcome !== "retrying" || !endpoint?.enabled) return;
  const next = result.delivery.attempt + 1;
  const delay = retryDelaySeconds(next, deps.random, deps.retryScale);
  const now = (deps.now ?? (() => new Date()))();
  const event = await deps.store.event(result.delivery.eventId);
  if (!event || event.projectId !== endpoint.projectId) return;
  await deps.deliveries.send(
    [{ ...deliveryFor(event, endpoint, next, now), notBefore: new Date(now.getTime() + delay * 1000).toISOString() }],
    Math.min(delay, MAX_SQS_DELAY_SECONDS),
  );
}

/** The results queue's consumer: records each outcome on its own; one not recorded comes back. */
export function recordResults(records: readonly QueueRecord[], deps: RecorderDeps): Promise<SQSBatchResponse> {
  const handle = async ({ messageId, body }: QueueRecord) => {
    try {
      await recordResult(body, deps);
    } catch (error) {
      logger.error("webhook result not recorded", { messageId, error });
      throw error;
    }
  };
  return consumeRecords(records, handle, { inParallel: true });
}
