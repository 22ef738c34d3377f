import { logger } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import type { ClassificationQueue } from "./queue.js";
import type { LabelsStore } from "./repository.js";

export interface SweepOptions {
  graceSeconds: number;
  lookbackHours: number;
  maxThreads: number;
}

/**
 * Sends the classifier every recent thread that is still unlabelled a grace period after it was
 * last sent (an enqueue that failed during chat, a message lost to the DLQ, a project that had no
 * categories). Marks them first, so a second sweeper run does not send them again at once.
 */
export async function sweep(
  deps: { labels: LabelsStore; queue: ClassificationQueue },
  options: SweepOptions,
): Promise<{ requeued: number }> {
  const due = await deps.labels.dueForSweep(options.graceSeconds, options.lookbackHours, options.maxThreads);
  const ids = due.map((thread) => thread.id);
  if (ids.length === 0) return { requeued: 0 };
  await deps.labels.markRequested(ids);
  await deps.queue.send(due.map(({ id: threadId, projectId }) => ({ threadId, projectId, reason: "sweep" as const })));
  putMetric("SweeperRequeued", ids.length);
  logger.info("sweeper re-sent unlabelled threads", { count: ids.length });
  return { requeued: ids.length };
}
