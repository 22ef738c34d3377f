import type { SourceCounts } from "../categories/model.js";
import type { CategorySource } from "../db/schema.js";
import type { Interval } from "./calendar.js";

/** Buckets one trends request may span. */
export const MAX_ANALYTICS_BUCKETS = 400;

/** One bucket's counts for one label (category_id and source both null: unlabelled). */
export interface BucketLabelCount {
  bucket: number;
  categoryId: string | null;
  source: CategorySource | null;
  threads: number;
  questions: number;
}

/** One calendar bucket of the trends: its local bounds and what was created in it. */
export interface TrendBucket {
  /** Local time with the zone's offset. */
  start: string;
  end: string;
  threads: number;
  questions: number;
  unlabelled: number;
  bySource: SourceCounts;
  categories: { id: string; name: string; count: number }[];
}

export interface CategoryTrends {
  interval: Interval;
  tz: string;
  /** The range the buckets cover, [from, to). */
  from: Date;
  to: Date;
  buckets: TrendBucket[];
}
