import { type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import type { BackfillScope, BackfillTarget, JobClaim, RangeBound, TargetProgress, ThreadRef } from "./model.js";

/** cli/backfill.ts still imports it from here. */
export type { TargetProgress } from "./model.js";

/**
 * The threads a backfill target covers, as a SQL condition on `threads`:
 * - scope unlabelled: `category_id is null`, which the partial index `threads_unlabelled_idx`
 *   (on id) holds, so every walk of every project is an index range scan in id order;
 * - scope classifier: also the classifier's labels written before the cutoff (never a user's);
 *   every project's walk goes along the primary key, filtering rows.
 * Either covers the threads created before the cutoff (the job's start) only.
 * A project narrows either, walked along `threads_project_id_idx` (project_id, id): in time
 * proportional to the project, not to the table.
 */
function targetCondition(target: BackfillTarget): SQL {
  const labels =
    target.scope === "unlabelled"
      ? sql`category_id is null`
      : sql`(category_id is null or (category_source = 'classifier' and classified_at < ${target.classifiedBefore}::timestamptz))`;
  // The threads that existed when the job started: later ones are the live path's, and the job's
  // pending count can reach zero under live traffic (it holds its project's slot until then).
  const covered = sql`${labels} and created_at < ${target.classifiedBefore}::timestamptz`;
  return target.projectId ? sql`${covered} and project_id = ${target.projectId}::uuid` : covered;
}

const after = (id: string | null): SQL => (id ? sql`and id > ${id}::uuid` : sql``);

/** The port of the backfill's keyset walks, progress counts and job claims: services take it, tests fake it; BackfillRepository is the Postgres adapter. */
export interface BackfillStore {
  nextRange(target: BackfillTarget, cursor: string | null, size: number): Promise<RangeBound | null>;
  idsInRange(target: BackfillTarget, afterId: string | null, last: string, limit: number): Promise<ThreadRef[]>;
  progress(target: BackfillTarget): Promise<TargetProgress>;
  /** Whether the project exists (it may have been deleted while its key is still cached). */
  projectExists(projectId: string): Promise<boolean>;
  claimJob(jobId: string, projectId: string | null, scope: BackfillScope): Promise<JobClaim>;
  finishJob(jobId: string): Promise<void>;
  releaseJob(jobId: string): Promise<void>;
  /**
   * Records a labelling job's pending count; true once it has not gone down for `stallAfterMs`
   * (its last threads cannot be labelled: dead-lettered, a project without categories).
   */
  notePending(jobId: string, pending: number, stallAfterMs: number): Promise<boolean>;
}

/**
 * The Postgres adapter of the backfill: keyset walks over thread ids. Every query reads a bounded
 * number of rows (a range's size, a chunk), so the memory of a step is constant in the number of
 * threads, and a walk resumed at a cursor reads only what lies after it.
 */
export class BackfillRepository implements BackfillStore {
  constructor(private readonly db: DbOrTx) {}

  /**
   * The next range of the target's ids after `cursor`: its last id and its size, at most `size`
   * (fewer: the walk has reached the end). One index scan of `size` entries; no id leaves Postgres
   * but the last.
   */
  async nextRange(target: BackfillTarget, cursor: string | null, size: number): Promise<RangeBound | null> {
    const rows = await this.db.execute<{ last: string | null; count: string | number }>(sql`
      with page as (
        select id from threads where ${targetCondition(target)} ${after(cursor)} order by id limit ${size}
      )
      select (select id from page order by id desc limit 1) as last, (select count(*) from page) as count`);
    const row = rows[0];
    if (!row?.last) return null;
    return { last: row.last, count: Number(row.count) };
  }

  /** Up to `limit` of the target's ids in (after, last], in id order: one chunk of a range. */
  async idsInRange(target: BackfillTarget, afterId: string | null, last: string, limit: number): Promise<ThreadRef[]> {
    const rows = await this.db.execute<{ id: string; project_id: string }>(sql`
      select id, project_id from threads
      where ${targetCondition(target)} ${after(afterId)} and id <= ${last}::uuid
      order by id limit ${limit}`);
    return rows.map((r) => ({ id: r.id, projectId: r.project_id }));
  }

  /**
   * How far the target is: the project's thread counter (or the sum of all counters: no count of
   * a million rows) and the threads the target still covers (the partial index's size for scope
   * unlabelled, which shrinks as threads are labelled).
   */
  async progress(target: BackfillTarget): Promise<TargetProgress> {
    const total = target.projectId
      ? sql`(select thread_count from projects where id = ${target.projectId}::uuid)`
      : sql`(select sum(thread_count) from projects)`;
    const rows = await this.db.execute<{ total: string | number | null; pending: string | number }>(sql`
      select ${total} as total, (select count(*) from threads where ${targetCondition(target)}) as pending`);
    const pending = Number(rows[0]?.pending ?? 0);
    // Threads inserted around the counter (seeds, tests) must not make the rest negative.
    return { total: Math.max(Number(rows[0]?.total ?? 0), pending), pending };
  }

  async projectExists(projectId: string): Promise<boolean> {
    const rows = await this.db.execute(sql`select 1 from projects where id = ${projectId}::uuid`);
    return rows.length > 0;
  }

  /**
   * Claims the project's (null: all projects') running slot for a scope, atomically: the partial
   * unique index `backfill_jobs_running_key` admits one unfinished job per project and scope, so
   * of two simultaneous starts one inserts and the other finds the holder.
   */
  async claimJob(jobId: string, projectId: string | null, scope: BackfillScope): Promise<JobClaim> {
    const inserted = await this.db.execute<{ id: string }>(sql`
      insert into backfill_jobs (id, project_id, scope) values (${jobId}::uuid, ${projectId}::uuid, ${scope})
      on conflict do nothing returning id`);
    if (inserted.length > 0) return { claimed: true };
    const held = await this.db.execute<{ id: string; started_at: string | Date }>(sql`
      select id, started_at from backfill_jobs
      where coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid)
            = coalesce(${projectId}::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
        and scope = ${scope} and finished_at is null`);
    const row = held[0];
    // Finished between the two statements: the caller tries again.
    if (!row) return { claimed: false, heldBy: "", since: new Date(0) };
    return { claimed: false, heldBy: row.id, since: new Date(row.started_at) };
  }

  /** The job's execution stopped: its slot is free. */
  async finishJob(jobId: string): Promise<void> {
    await this.db.execute(
      sql`update backfill_jobs set finished_at = now() where id = ${jobId}::uuid and finished_at is null`,
    );
  }

  /** The job never started (its execution could not be created): forget its claim. */
  async releaseJob(jobId: string): Promise<void> {
    await this.db.execute(sql`delete from backfill_jobs where id = ${jobId}::uuid`);
  }

  async notePending(jobId: string, pending: number, stallAfterMs: number): Promise<boolean> {
    // Stalled only from the second look on: the first records where the count stands.
    const rows = await this.db.execute<{ stalled: boolean }>(sql`
      with seen as (
        select pending, progressed_at from backfill_jobs
        where id = ${jobId}::uuid and finished_at is null for update
      )
      update backfill_jobs b set
        progressed_at = case when seen.pending is null or ${pending} < seen.pending then now() else seen.progressed_at end,
        pending = ${pending}
      from seen where b.id = ${jobId}::uuid
      returning seen.pending is not null and ${pending} >= seen.pending
        and seen.progressed_at < now() - make_interval(secs => ${stallAfterMs / 1000}) as stalled`);
    return rows[0]?.stalled ?? true;
  }
}
