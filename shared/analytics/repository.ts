import { sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import type { CategorySource } from "../db/schema.js";
import type { BucketLabelCount } from "./model.js";
import type { RangePlan } from "./slots.js";

const iso = (t: number) => new Date(t).toISOString();

/** The port of per-bucket thread and question counts: services take it, tests fake it; AnalyticsRepository is the Postgres adapter. */
export interface AnalyticsStore {
  bucketCounts(projectId: string, buckets: readonly RangePlan[]): Promise<BucketLabelCount[]>;
}

/**
 * Reads thread and question counts per bucket and label in ONE statement (one snapshot, so a
 * label moving between two categories while it runs is counted once): the rollup's slots
 * (thread_rollups, an index range scan per slot range) plus the raw rows of the range's edges.
 */
export class AnalyticsRepository implements AnalyticsStore {
  constructor(private readonly db: Db) {}

  async bucketCounts(projectId: string, buckets: readonly RangePlan[]): Promise<BucketLabelCount[]> {
    const slots = buckets.flatMap((plan, b) =>
      plan.slots.map((s) => ({ b, g: s.grainMinutes, a: iso(s.from), z: iso(s.to) })),
    );
    const raw = buckets.flatMap((plan, b) => plan.raw.map((r) => ({ b, a: iso(r.from), z: iso(r.to) })));
    const rows = await this.db.transaction(async (tx) => {
      // The plan is fixed: a nested loop of index range scans, one per range (the lateral
      // subqueries' OFFSET 0 keeps them apart). json_to_recordset's row estimate is a guess, and
      // with it the planner may prefer hashing a whole project's rollup or threads; JIT would
      // spend longer compiling than the query runs.
      await tx.execute(sql`select set_config('jit', 'off', true), set_config('enable_hashjoin', 'off', true),
        set_config('enable_mergejoin', 'off', true)`);
      return tx.execute<{
        b: number;
        category_id: string | null;
        category_source: CategorySource | null;
        threads: number;
        questions: number;
      }>(sql`
        with slot_ranges as (
          select * from json_to_recordset(${JSON.stringify(slots)}::json) as x(b int, g smallint, a timestamptz, z timestamptz)
        ), raw_ranges as (
          select * from json_to_recordset(${JSON.stringify(raw)}::json) as x(b int, a timestamptz, z timestamptz)
        ), counted as (
          select s.b, r.category_id, r.category_source, r.threads, r.questions
          from slot_ranges s cross join lateral (
            select category_id, category_source, threads, questions from thread_rollups
            where project_id = ${projectId} and grain_minutes = s.g and slot_start >= s.a and slot_start < s.z
            offset 0) r
          union all
          select e.b, t.category_id, t.category_source, 1, 0
          from raw_ranges e cross join lateral (
            select category_id, category_source from threads
            where project_id = ${projectId} and created_at >= e.a and created_at < e.z
            offset 0) t
          union all
          select e.b, null, null, 0, 1
          from raw_ranges e cross join lateral (
            select q.thread_id from question_answers q
            where q.created_at >= e.a and q.created_at < e.z
            offset 0) q
          join threads t on t.id = q.thread_id and t.project_id = ${projectId}
        )
        select b, category_id, category_source, sum(threads)::int as threads, sum(questions)::int as questions
        from counted
        group by b, category_id, category_source`);
    });
    return rows.map((r) => ({
      bucket: Number(r.b),
      categoryId: r.category_id,
      source: r.category_source,
      threads: Number(r.threads),
      questions: Number(r.questions),
    }));
  }
}
