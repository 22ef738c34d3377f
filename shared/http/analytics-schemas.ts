import * as z from "zod";
import { INTERVALS, isTimeZone } from "../analytics/calendar.js";
import { count, createdRange, rangeIsOrdered, rangeOrderIssue } from "./schemas.js";

/** The zod schemas of the analytics routes (shared/http/schemas.ts holds the core ones, export-schemas.ts the exports'). */

// Analytics: category trends over time (GET analytics/categories/) ---------------------------------

export const analyticsQuery = z
  .object({
    interval: z
      .enum(INTERVALS, { message: "interval must be day, week or month" })
      .default("day")
      .meta({ description: "Bucket size in the zone's calendar (weeks start on Monday); default day" }),
    tz: z
      .string()
      .refine(isTimeZone, { message: "tz must be an IANA time zone, e.g. Europe/Berlin" })
      .default("UTC")
      .meta({ description: "IANA time zone of the buckets' calendar; default UTC" }),
    created_after: createdRange.created_after.meta({
      description: "Start of the range (default: 30 days, 12 weeks or 12 months back, at a bucket start)",
    }),
    created_before: createdRange.created_before.meta({ description: "End of the range, exclusive (default: now)" }),
  })
  .refine(rangeIsOrdered, rangeOrderIssue);

const sourceCounts = z.object({ user: count(7), classifier: count(110) });

export const analyticsBucket = z
  .object({
    start: z.string().meta({ description: "Bucket start, local time with the zone's offset" }),
    end: z.string().meta({ description: "Bucket end (exclusive), local time with the zone's offset" }),
    threads: count(120, "Threads created in the bucket (within the range)"),
    questions: count(310, "Questions asked in the bucket, in any thread"),
    unlabelled: count(3),
    by_source: sourceCounts,
    categories: z.array(z.object({ id: z.string().uuid(), name: z.string(), count: count(80) })),
  })
  .meta({ id: "AnalyticsBucket" });

export const categoryTrends = z
  .object({
    interval: z.enum(INTERVALS),
    tz: z.string(),
    created_after: z.string().datetime(),
    created_before: z.string().datetime(),
    buckets: z.array(analyticsBucket),
  })
  .meta({ id: "CategoryTrends" });

export type AnalyticsQuery = z.infer<typeof analyticsQuery>;
export type CategoryTrendsResource = z.infer<typeof categoryTrends>;
export type AnalyticsBucketResource = z.infer<typeof analyticsBucket>;
