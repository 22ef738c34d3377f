import { logger } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import type { ClassificationQueue, ClassificationRequest } from "./queue.js";
import type { LabelsStore } from "./repository.js";

export interface SweepOptions {
  graceSeconds: number;
  lookbackHours: number;
  maxThreads: number;
}

/**
 * A project's first re-sends of a run go to the live queue (a lost new thread is labelled at live
 * speed); the rest are backlog, proportional to the project's size, and go to the backfill queue.
 */
export const LIVE_RESENDS_PER_PROJECT = 10;

export interface SweepResult {
  requeued: number;
  /** Of which sent to the live queue (the rest to the backfill queue). */
  live: number;
}

/**
 * Sends the classifier every recent thread that is still unlabelled a grace period after it was
 * last sent (an enqueue that failed during chat, a message lost to the DLQ, a project that had no
 * categories), each project at most a fair share of the run's budget. Marks them first, so a
 * second sweeper run does not send them again at once; those sent to the backfill queue are not
 * sent again for a day (./requested.ts), since that queue may hold them for hours.
 *
 * Every mark is written before the sends: once a queue has the threads, the classifier is
 * writing their rows, and a mark after the send waited on its row locks (a statement over the
 * whole run's backlog, against up to the classifier's concurrency of label writes). Should a send
 * fail, the backlog is marked as sent to the live queue again: due after the grace period.
 */
export async function sweep(
  deps: { labels: LabelsStore; queue: ClassificationQueue; backfillQueue: ClassificationQueue },
  options: SweepOptions,
): Promise<SweepResult> {
  const due = await deps.labels.dueForSweep(options.graceSeconds, options.lookbackHours, options.maxThreads);
  if (due.length === 0) return { requeued: 0, live: 0 };
  const toLive = due.filter((d) => d.rank <= LIVE_RESENDS_PER_PROJECT);
  const toBacklog = due.filter((d) => d.rank > LIVE_RESENDS_PER_PROJECT);
  const backlogIds = toBacklog.map((d) => d.id);
  await deps.labels.markRequested(toLive.map((d) => d.id));
  await deps.labels.markRequested(backlogIds, "backfill");
  const request = (d: (typeof due)[number]): ClassificationRequest => ({
    threadId: d.id,
    projectId: d.projectId,
    reason: "sweep",
  });
  const live = toLive.map(request);
  try {
    await deps.queue.send(live);
    if (toBacklog.length > 0) await deps.backfillQueue.send(toBacklog.map(request));
  } catch (error) {
    // The send's error is the run's; a failed mark here only delays the backlog's re-send.
    await deps.labels.markRequested(backlogIds).catch((markError: unknown) =>
      logger.warn("could not mark the unsent backlog as due again; the sweeper re-sends it a day later", {
        count: backlogIds.length,
        error: markError,
      }),
    );
    throw error;
  }
  putMetric("SweeperRequeued", due.length);
  logger.info("sweeper re-sent unlabelled threads", { count: due.length, live: live.length });
  return { requeued: due.length, live: live.length };
}
