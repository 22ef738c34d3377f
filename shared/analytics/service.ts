import type { CategoriesStore } from "../categories/repository.js";
import { foldLabelCounts } from "../categories/service.js";
import { InvalidInputError } from "../platform/errors.js";
import { formatLocal, type Interval, type Period, periods, periodsBack } from "./calendar.js";
import { type BucketLabelCount, type CategoryTrends, MAX_ANALYTICS_BUCKETS, type TrendBucket } from "./model.js";
import type { AnalyticsStore } from "./repository.js";
import { planRange } from "./slots.js";

/** Buckets shown when the range has no start: 30 days, 12 weeks or 12 months up to now. */
export const DEFAULT_BUCKETS: Readonly<Record<Interval, number>> = { day: 30, week: 12, month: 12 };

export interface TrendsQuery {
  interval: Interval;
  tz: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface TrendsDeps {
  analytics: AnalyticsStore;
  categories: CategoriesStore;
}

function resolveRange(query: TrendsQuery, now: number): { from: number; to: number } {
  const to = query.createdBefore?.getTime() ?? now;
  const from =
    query.createdAfter?.getTime() ?? periodsBack(query.interval, query.tz, to - 1, DEFAULT_BUCKETS[query.interval]);
  if (from >= to) throw new InvalidInputError("created_after must be before created_before");
  return { from, to };
}

/**
 * Threads, questions and labels per calendar bucket of [created_after, created_before): every
 * bucket of the range, empty ones included, oldest first. A bucket counts only what lies inside
 * the range too, so each bucket equals categories/stats/ over (bucket ∩ range) and the buckets
 * add up to categories/stats/ over the range.
 */
export async function categoryTrends(
  deps: TrendsDeps,
  projectId: string,
  query: TrendsQuery,
  now = Date.now(),
): Promise<CategoryTrends> {
  const { from, to } = resolveRange(query, now);
  const buckets = periods(query.interval, query.tz, from, to, MAX_ANALYTICS_BUCKETS);
  if (!buckets) {
    throw new InvalidInputError(
      `This range has more than ${MAX_ANALYTICS_BUCKETS} ${query.interval} buckets (at most ${MAX_ANALYTICS_BUCKETS}): narrow created_after..created_before or use a longer interval`,
    );
  }
  const clipped: Period[] = buckets.map((b) => ({ start: Math.max(b.start, from), end: Math.min(b.end, to) }));
  const [counts, categories] = await Promise.all([
    deps.analytics.bucketCounts(
      projectId,
      clipped.map((b) => planRange(b.start, b.end)),
    ),
    deps.categories.list(projectId),
  ]);
  const perBucket: BucketLabelCount[][] = buckets.map(() => []);
  for (const row of counts) perBucket[row.bucket]?.push(row);
  return {
    interval: query.interval,
    tz: query.tz,
    from: new Date(from),
    to: new Date(to),
    buckets: buckets.map((bucket, i): TrendBucket => {
      const rows = perBucket[i] ?? [];
      const totals = foldLabelCounts(
        rows.map((r) => ({ categoryId: r.categoryId, source: r.source, count: r.threads })),
        categories,
      );
      return {
        start: formatLocal(query.tz, bucket.start),
        end: formatLocal(query.tz, bucket.end),
        threads: totals.total,
        questions: rows.reduce((sum, r) => sum + r.questions, 0),
        unlabelled: totals.unlabelled,
        bySource: totals.bySource,
        categories: totals.categories.map(({ id, name, count }) => ({ id, name, count })),
      };
    }),
  };
}
