import type { ClassificationQueue } from "../classification/queue.js";
import { requestClassification } from "../classification/requests.js";
import { classifyDbError } from "../db/errors.js";
import { logger } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import type { PendingDeletion, UnlabelCursor, UnlabelStore } from "./unlabel.js";

/** Threads one statement unlabels. */
export const UNLABEL_BATCH = 500;
/** The smallest batch: a statement over fewer threads that still times out is left to the next run. */
const MIN_BATCH = 10;
/** Deleted categories one run works on, round robin. */
const DELETIONS_PER_RUN = 100;

export interface RelabelOptions {
  /** Stop starting batches at this time (ms since the epoch): the run stays within its function's timeout. */
  deadline: number;
  batchSize?: number;
  /** Only these projects' deletions (an operator's run, a test beside others). */
  projectIds?: readonly string[];
}

export interface RelabelResult {
  /** Threads unlabelled and sent to the backfill queue. */
  unlabelled: number;
  /** Categories whose last thread was unlabelled and whose row is gone. */
  finished: number;
  /** Categories still being unlabelled after this run. */
  pending: number;
}

interface Walk {
  deletion: PendingDeletion;
  cursor: UnlabelCursor | null;
  /** Threads per statement: halved after a statement timeout (a busy database), never grown back in a run. */
  size: number;
}

/** One step of a walk: a batch, or at its end the last stragglers and the row. Null: the walk is done. */
async function step(
  unlabel: UnlabelStore,
  walk: Walk,
  send: (deletion: PendingDeletion, threadIds: string[]) => Promise<void>,
): Promise<{ next: Walk | null; finished: boolean }> {
  const batch = await unlabel.unlabelBatch(walk.deletion, walk.cursor, walk.size);
  await send(walk.deletion, batch.threadIds);
  if (batch.threadIds.length === walk.size) return { next: { ...walk, cursor: batch.cursor }, finished: false };
  // The walk reached the end: what was labelled behind it meanwhile goes with the row.
  const last = await unlabel.finish(walk.deletion, walk.size);
  await send(walk.deletion, last.threadIds);
  return last.finished ? { next: null, finished: true } : { next: { ...walk, cursor: null }, finished: false };
}

/** The mark only saves the sweeper a duplicate send later: a failure to write it is not the run's. */
async function markBackloggedOrWarn(unlabel: UnlabelStore, threadIds: string[]): Promise<void> {
  try {
    await unlabel.markBacklogged(threadIds);
  } catch (error) {
    logger.warn("could not mark relabelled threads as waiting on the backfill queue", {
      count: threadIds.length,
      error,
    });
  }
}

/** A statement over this many threads timed out: the walk goes on with half as many, or stops for this run. */
function afterFailure(walk: Walk, error: unknown): Walk {
  if (classifyDbError(error)?.kind !== "timeout" || walk.size <= MIN_BATCH) throw error;
  return { ...walk, size: Math.max(MIN_BATCH, Math.floor(walk.size / 2)) };
}

/**
 * Unlabels the threads of deleted categories, a batch at a time and round robin between them (a
 * small deletion is not held up by a big one), and sends each batch to the classifier through the
 * backfill queue: relabelling is backlog work, never the live queue's. Resumable by construction:
 * the database is the state (a thread still pointing at a deleted category is still to do), so a
 * run that stops anywhere leaves the next run only what is left. A batch unlabelled but not sent
 * (the send failed, the run crashed) is marked as sent, and the sweeper re-sends it after its
 * grace period; a batch sent is marked as waiting on the backfill queue, which the sweeper leaves
 * it to for a day (shared/classification/requested.ts).
 */
export async function relabelDeletedCategories(
  deps: { unlabel: UnlabelStore; backfillQueue: ClassificationQueue },
  options: RelabelOptions,
): Promise<RelabelResult> {
  const size = options.batchSize ?? UNLABEL_BATCH;
  let walks: Walk[] = (await deps.unlabel.pendingDeletions(DELETIONS_PER_RUN, options.projectIds)).map((deletion) => ({
    deletion,
    cursor: null,
    size,
  }));
  const result: RelabelResult = { unlabelled: 0, finished: 0, pending: 0 };
  const send = async (deletion: PendingDeletion, threadIds: string[]) => {
    result.unlabelled += threadIds.length;
    const sent = await requestClassification(
      deps.backfillQueue,
      threadIds.map((threadId) => ({ threadId, projectId: deletion.projectId, reason: "category-deleted" as const })),
    );
    // Only once the queue has them: an unsent batch stays due for the sweeper after its grace period.
    if (sent) await markBackloggedOrWarn(deps.unlabel, threadIds);
  };
  while (walks.length > 0 && Date.now() < options.deadline) {
    const next: Walk[] = [];
    for (const walk of walks) {
      if (Date.now() >= options.deadline) {
        next.push(walk);
        continue;
      }
      try {
        const stepped = await step(deps.unlabel, walk, send);
        if (stepped.finished) result.finished++;
        if (stepped.next) next.push(stepped.next);
      } catch (error) {
        next.push(afterFailure(walk, error));
      }
    }
    walks = next;
  }
  result.pending = walks.length;
  if (result.unlabelled > 0) putMetric("DeletedCategoryThreadsUnlabelled", result.unlabelled);
  if (result.unlabelled > 0 || result.finished > 0)
    logger.info("deleted categories' threads unlabelled", { ...result });
  return result;
}
