import { currentCorrelationId, logger } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import type { ClassificationQueue, ClassificationRequest, SendOptions } from "./queue.js";

/**
 * Sends requests to the classifier without ever failing the caller: a failed send is logged and
 * counted, and the sweeper sends the threads again after its grace period. Resolves to whether
 * the send went through.
 */
export async function requestClassification(
  queue: ClassificationQueue,
  requests: readonly ClassificationRequest[],
  options?: SendOptions,
): Promise<boolean> {
  if (requests.length === 0) return true;
  const correlationId = currentCorrelationId();
  try {
    await queue.send(correlationId ? requests.map((r) => ({ correlationId, ...r })) : requests, options);
    return true;
  } catch (error) {
    putMetric("ClassificationEnqueueFailures", requests.length);
    logger.warn("could not send threads to the classifier; the sweeper will", {
      threadIds: requests.slice(0, 10).map((r) => r.threadId),
      count: requests.length,
      error,
    });
    return false;
  }
}
