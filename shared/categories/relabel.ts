import type { ClassificationQueue } from "../classification/queue.js";
import { requestClassification } from "../classification/requests.js";
import { logger } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import type { PendingDeletion, UnlabelCursor, UnlabelStore } from "./unlabel.js";

/** Threads one statement unlabels. */
export const UNLABEL_BATCH = 500;
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
}

/**
 * Unlabels the threads of deleted categories, a batch at a time and round robin between them (a
 * small deletion is not held up by a big one), and sends each batch to the classifier through the
 * backfill queue: relabelling is backlog work, never the live queue's. Resumable by construction:
 * the database is the state (a thread still pointing at a deleted category is still to do), so a
 * run that stops anywhere leaves the next run only what is left. A batch unlabelled but not sent
 * (the send failed, the run crashed) is marked as sent, and the sweeper re-sends it.
 */
export async function relabelDeletedCategories(
  deps: { unlabel: UnlabelStore; backfillQueue: ClassificationQueue },
  options: RelabelOptions,
): Promise<RelabelResult> {
  const size = options.batchSize ?? UNLABEL_BATCH;
  let walks: Walk[] = (await deps.unlabel.pendingDeletions(DELETIONS_PER_RUN, options.projectIds)).map((deletion) => ({
    deletion,
    cursor: null,
  }));
  const result: RelabelResult = { unlabelled: 0, finished: 0, pending: 0 };
  const send = async (deletion: PendingDeletion, threadIds: string[]) => {
    result.unlabelled += threadIds.length;
    await requestClassification(
      deps.backfillQueue,
      threadIds.map((threadId) => ({ threadId, projectId: deletion.projectId, reason: "category-deleted" as const })),
    );
  };
  while (walks.length > 0 && Date.now() < options.deadline) {
    const next: Walk[] = [];
    for (const walk of walks) {
      if (Date.now() >= options.deadline) {
        next.push(walk);
        continue;
      }
      const batch = await deps.unlabel.unlabelBatch(walk.deletion, walk.cursor, size);
      await send(walk.deletion, batch.threadIds);
      if (batch.threadIds.length === size) {
        next.push({ deletion: walk.deletion, cursor: batch.cursor });
        continue;
      }
      // The walk reached the end: what was labelled behind it meanwhile goes with the row.
      const last = await deps.unlabel.finish(walk.deletion, size);
      await send(walk.deletion, last.threadIds);
      if (last.finished) result.finished++;
      else next.push({ deletion: walk.deletion, cursor: null });
    }
    walks = next;
  }
  result.pending = walks.length;
  if (result.unlabelled > 0) putMetric("DeletedCategoryThreadsUnlabelled", result.unlabelled);
  if (result.unlabelled > 0 || result.finished > 0)
    logger.info("deleted categories' threads unlabelled", { ...result });
  return result;
}
