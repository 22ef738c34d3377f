import * as z from "zod";

/**
 * The backfill's vocabulary: what an execution of the state machine is asked to do (its input),
 * the threads it walks (a target), and the small state it carries from one loop to the next.
 */

/** `unlabelled`: label the threads without a label. `classifier`: also re-label the classifier's labels. */
export const BACKFILL_SCOPES = ["unlabelled", "classifier"] as const;
export type BackfillScope = (typeof BACKFILL_SCOPES)[number];

const isoTime = z.string().datetime({ offset: true });

/**
 * The execution input, as `npx kapa backfill start` and `POST reclassify/` send it.
 * `classified_before` (scope classifier): re-label only labels the classifier wrote before this
 * instant; it defaults to the execution's start time, and a resumed job passes its first run's
 * value so that a re-run does not redo what the first run already re-labelled.
 */
export const backfillInput = z
  .object({
    project_id: z.string().uuid().nullish(),
    scope: z.enum(BACKFILL_SCOPES).default("unlabelled"),
    classified_before: isoTime.nullish(),
    /** The job this execution runs (POST reclassify/, `kapa backfill start`): carried in each message. */
    job_id: z.string().uuid().nullish(),
  })
  .strict();
export type BackfillInput = z.input<typeof backfillInput>;

/** The threads a job walks, by id: the predicate of shared/backfill/repository.ts. */
export const backfillTarget = z.object({
  projectId: z.string().uuid().nullable(),
  scope: z.enum(BACKFILL_SCOPES),
  /** ISO-8601; scope classifier re-labels only classifier labels older than this. */
  classifiedBefore: isoTime,
  /** The job walking it, if any: each message names it, with the cutoff. */
  jobId: z.string().uuid().nullish(),
});
export type BackfillTarget = z.infer<typeof backfillTarget>;

/** The ids in (after, last]: `after` null means from the first id. */
export const threadIdRange = z.object({
  after: z.string().uuid().nullable(),
  last: z.string().uuid(),
});
export type ThreadIdRange = z.infer<typeof threadIdRange>;

/**
 * What the state machine carries between its states: the target, the keyset cursor, running
 * totals and the current page's ranges. A few hundred bytes plus about 90 per range: the state
 * never holds thread ids beyond the range bounds, whatever the number of threads.
 */
export const loopState = z.object({
  job: backfillTarget,
  /** The last id planned so far; the next page starts after it. */
  cursor: z.string().uuid().nullable(),
  /** Plan pages so far (loop iterations). */
  pages: z.number().int().min(0),
  /** Thread ids put into ranges so far (what EnqueueRange sends, less those labelled meanwhile). */
  planned: z.number().int().min(0),
  ranges: z.array(threadIdRange),
  /** Whether another page may follow: the Choice state loops back to Plan while true. */
  more: z.boolean(),
});
export type LoopState = z.infer<typeof loopState>;

/** What the Plan task receives (its Parameters in the state machine). */
export const planEvent = z.object({
  /** The execution input on the first call (`backfillInput`), the loop state on the next ones. */
  state: z.record(z.string(), z.unknown()),
  /** `$$.Execution.StartTime`: the default `classified_before`. */
  startedAt: isoTime,
  /** Ids per Plan page (a multiple of rangeSize). */
  pageSize: z.number().int().min(1),
  /** Ids per range: what one EnqueueRange sends. */
  rangeSize: z.number().int().min(1),
});
export type PlanEvent = z.input<typeof planEvent>;

/** What one EnqueueRange task receives (the Map's ItemSelector). */
export const enqueueRangeEvent = z.object({ job: backfillTarget, range: threadIdRange });
export type EnqueueRangeEvent = z.input<typeof enqueueRangeEvent>;

export interface EnqueueRangeResult {
  /** Thread ids sent to the backfill queue. */
  enqueued: number;
}

/** The execution's output (the Summary state). */
export interface BackfillSummary {
  project_id: string | null;
  scope: BackfillScope;
  classified_before: string;
  pages: number;
  enqueued: number;
}

/** A thread id with its project (the fair queues' message group). */
export interface ThreadRef {
  id: string;
  projectId: string;
}

export interface RangeBound {
  /** The last id of the range. */
  last: string;
  /** Ids in the range (at most the asked size). */
  count: number;
}

/** A start's claim of its project and scope: taken, or held by the running job named. */
export type JobClaim = { claimed: true } | { claimed: false; heldBy: string; since: Date };

export interface TargetProgress {
  /** Threads in the project (or in all projects). */
  total: number;
  /** Threads the target still covers: not labelled yet (scope classifier: or not re-labelled yet). */
  pending: number;
}
