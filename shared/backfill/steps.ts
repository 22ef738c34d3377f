import pLimit from "p-limit";
import type * as z from "zod";
import type { ClassificationQueue, ClassificationRequest } from "../classification/queue.js";
import { logger } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import { BackfillQueueError, InvalidBackfillInput } from "./errors.js";
import {
  type BackfillTarget,
  backfillInput,
  type EnqueueRangeResult,
  enqueueRangeEvent,
  type LoopState,
  loopState,
  planEvent,
  type ThreadIdRange,
} from "./model.js";
import type { BackfillStore } from "./repository.js";

/**
 * The two Lambda tasks of the backfill state machine (infra/constructs/backfill.ts):
 *
 *   Plan -> Map(EnqueueRange over the ranges) -> more? loop to Plan : Summary
 *
 * Plan reads one keyset page of the target's thread ids and cuts it into ranges; only the range
 * bounds leave it. EnqueueRange streams one range's ids to the backfill queue in chunks. Both
 * re-read the database: what was labelled meanwhile is skipped, so a re-run after a crash only
 * sends what is still left, and a retried step only repeats sends (harmless: the classifier's
 * writes are conditional).
 */

/** Thread ids one EnqueueRange query reads (100 SendMessageBatch calls). */
export const ENQUEUE_CHUNK = 1000;
/** Thread ids per send (ten SendMessageBatch calls), and sends at once: 40 requests in flight per range. */
const SEND_SLICE = 100;
const SENDS_IN_FLIGHT = 4;

/** Sends the requests a slice at a time, SENDS_IN_FLIGHT slices at once; after a failed send, no new one starts. */
async function sendBounded(queue: ClassificationQueue, requests: readonly ClassificationRequest[]): Promise<void> {
  const limit = pLimit(SENDS_IN_FLIGHT);
  const slices = Array.from({ length: Math.ceil(requests.length / SEND_SLICE) }, (_, i) =>
    requests.slice(i * SEND_SLICE, (i + 1) * SEND_SLICE),
  );
  try {
    await Promise.all(slices.map((slice) => limit(() => queue.send(slice))));
  } catch (error) {
    limit.clearQueue();
    throw error;
  }
}

function startState(input: z.output<typeof backfillInput>, startedAt: string): LoopState {
  const job: BackfillTarget = {
    projectId: input.project_id ?? null,
    scope: input.scope,
    classifiedBefore: new Date(input.classified_before ?? startedAt).toISOString(),
    ...(input.job_id ? { jobId: input.job_id } : {}),
  };
  return { job, cursor: null, pages: 0, planned: 0, ranges: [], more: true };
}

/** Plan: the next page of ranges after the cursor. Its output replaces the loop state. */
export async function planPage(threads: BackfillStore, event: unknown): Promise<LoopState> {
  const { state: given, startedAt, pageSize, rangeSize } = planEvent.parse(event);
  if (pageSize % rangeSize !== 0) throw new InvalidBackfillInput("pageSize must be a multiple of rangeSize");
  const state = "job" in given ? loopState.parse(given) : startState(backfillInput.parse(given), startedAt);
  const started = Date.now();
  const ranges: ThreadIdRange[] = [];
  let cursor = state.cursor;
  let planned = 0;
  let more = true;
  while (ranges.length < pageSize / rangeSize) {
    const range = await threads.nextRange(state.job, cursor, rangeSize);
    if (range) {
      ranges.push({ after: cursor, last: range.last });
      planned += range.count;
      cursor = range.last;
    }
    if (!range || range.count < rangeSize) {
      more = false;
      break;
    }
  }
  logger.info("backfill page planned", { job: state.job, ranges: ranges.length, planned, ms: Date.now() - started });
  return { job: state.job, cursor, pages: state.pages + 1, planned: state.planned + planned, ranges, more };
}

/**
 * EnqueueRange: sends the range's ids that the target still covers to the backfill queue, a
 * chunk at a time; the next chunk is read while the current one is sent. Memory: two chunks.
 */
export async function enqueueRange(
  deps: { threads: BackfillStore; queue: ClassificationQueue },
  event: unknown,
): Promise<EnqueueRangeResult> {
  const { job, range } = enqueueRangeEvent.parse(event);
  const mode = job.scope === "classifier" ? "reclassify" : "unlabelled";
  const started = Date.now();
  let enqueued = 0;
  let next = deps.threads.idsInRange(job, range.after, range.last, ENQUEUE_CHUNK);
  for (;;) {
    const ids = await next;
    const last = ids.at(-1)?.id;
    if (!last) break;
    if (ids.length === ENQUEUE_CHUNK) next = deps.threads.idsInRange(job, last, range.last, ENQUEUE_CHUNK);
    // The job and its cutoff travel with each id: the classifier skips a duplicate (a retried range).
    const requests: ClassificationRequest[] = ids.map((thread) => ({
      threadId: thread.id,
      projectId: thread.projectId,
      reason: "backfill",
      mode,
      job: { id: job.jobId ?? null, classifiedBefore: job.classifiedBefore },
    }));
    try {
      await sendBounded(deps.queue, requests);
    } catch (error) {
      // Do not leave the prefetch's rejection unhandled: the retry reads again anyway.
      next.catch(() => {});
      throw new BackfillQueueError(`Could not send thread ids to the backfill queue: ${(error as Error).message}`, {
        cause: error,
      });
    }
    enqueued += ids.length;
    if (ids.length < ENQUEUE_CHUNK) break;
  }
  putMetric("BackfillEnqueued", enqueued);
  logger.info("backfill range enqueued", { job, range, enqueued, ms: Date.now() - started });
  return { enqueued };
}
