import { and, asc, eq, inArray, isNotNull, type SQL, sql } from "drizzle-orm";
import { markRequested } from "../classification/requested.js";
import type { Db } from "../db/client.js";
import { retryTransient } from "../db/errors.js";
import { categories } from "../db/schema.js";
import { CATEGORY_DELETED, recordLabelChanges } from "../labels/history.js";

/** A category marked deleted whose threads may still point at it. */
export interface PendingDeletion {
  id: string;
  projectId: string;
  deletedAt: Date;
}

/** Where a walk over a deleted category's threads stands: the last (created_at, id) unlabelled. */
export interface UnlabelCursor {
  createdAt: string;
  id: string;
}

export interface UnlabelledBatch {
  threadIds: string[];
  /** The last thread of the batch, for the next one (null: the batch was empty). */
  cursor: UnlabelCursor | null;
}

/** The port of the unlabelling of deleted categories: the service takes it; UnlabelRepository is the Postgres adapter. */
export interface UnlabelStore {
  /** The oldest deletions still unlabelling (of these projects only, when given). */
  pendingDeletions(limit: number, projectIds?: readonly string[]): Promise<PendingDeletion[]>;
  unlabelBatch(deletion: PendingDeletion, after: UnlabelCursor | null, size: number): Promise<UnlabelledBatch>;
  /** Unlabels what is left (at most `size`) and, when that was all, removes the category's row. */
  finish(deletion: PendingDeletion, size: number): Promise<{ threadIds: string[]; finished: boolean }>;
  /** Marks unlabelled threads as waiting on the backfill queue: the sweeper leaves them to it (requested.ts). */
  markBacklogged(threadIds: readonly string[]): Promise<void>;
}

const UNLABEL = sql`category_id = null, category_source = null, classified_at = null, classification_requested_at = now(),
  category_confidence = null, category_rationale = null`;

/**
 * The columns recordLabelChanges reads, for a thread the deletion unlabels (source `system`). The
 * batch is locked (`for update`), so its `category_source` is the row's newest, the one replaced.
 */
const systemUnlabel = (categoryId: string, previousSource: SQL) =>
  sql`t.project_id, t.category_id, 'system'::text as source, ${CATEGORY_DELETED}::text as actor,
    null::real as confidence, null::text as rationale, ${categoryId}::uuid as previous_category_id, ${previousSource} as previous_source`;

/**
 * The Postgres adapter: every statement touches at most one batch of threads, found along
 * `threads_project_category_idx` (project_id, category_id, created_at, id) after a keyset cursor,
 * so none grows with the category and the rollup triggers see one batch at a time.
 */
export class UnlabelRepository implements UnlabelStore {
  constructor(private readonly db: Db) {}

  async pendingDeletions(limit: number, projectIds?: readonly string[]): Promise<PendingDeletion[]> {
    return this.db
      .select({ id: categories.id, projectId: categories.projectId, deletedAt: categories.deletedAt })
      .from(categories)
      .where(
        and(isNotNull(categories.deletedAt), projectIds ? inArray(categories.projectId, [...projectIds]) : undefined),
      )
      .orderBy(asc(categories.deletedAt), asc(categories.id))
      .limit(limit) as Promise<PendingDeletion[]>;
  }

  async unlabelBatch(deletion: PendingDeletion, after: UnlabelCursor | null, size: number): Promise<UnlabelledBatch> {
    const keyset = after ? sql`and (created_at, id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)` : sql``;
    const rows = await this.db.execute<{ id: string; created_at: string | Date }>(sql`
      with batch as (
        select id, category_source from threads
        where project_id = ${deletion.projectId}::uuid and category_id = ${deletion.id}::uuid ${keyset}
        order by created_at, id limit ${size}
        for update
      ), unlabelled as (
        update threads t set ${UNLABEL}
        from batch where t.id = batch.id and t.category_id = ${deletion.id}::uuid
        returning t.id, t.created_at, ${systemUnlabel(deletion.id, sql`batch.category_source`)}
      ), ${recordLabelChanges("unlabelled")}
      select id, created_at from unlabelled`);
    const ordered = rows
      .map((r) => ({ id: r.id, createdAt: new Date(r.created_at).toISOString() }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const last = ordered.at(-1);
    return { threadIds: ordered.map((r) => r.id), cursor: last ? { createdAt: last.createdAt, id: last.id } : null };
  }

  /**
   * The category's row lock waits for the label writes that still saw it (they hold a share lock
   * on it: shared/classification/repository.ts, or the foreign key's), so nothing can point at it
   * once the row is gone; the threads they labelled meanwhile are unlabelled here.
   */
  finish(deletion: PendingDeletion, size: number): Promise<{ threadIds: string[]; finished: boolean }> {
    return retryTransient(() =>
      this.db.transaction(async (tx) => {
        const [locked] = await tx
          .select({ id: categories.id })
          .from(categories)
          .where(and(eq(categories.id, deletion.id), isNotNull(categories.deletedAt)))
          .for("update");
        if (!locked) return { threadIds: [], finished: true };
        const rows = await tx.execute<{ id: string }>(sql`
          with batch as (
            select id, category_source from threads
            where project_id = ${deletion.projectId}::uuid and category_id = ${deletion.id}::uuid limit ${size}
            for update
          ), unlabelled as (
            update threads t set ${UNLABEL}
            from batch where t.id = batch.id
            returning t.id, ${systemUnlabel(deletion.id, sql`batch.category_source`)}
          ), ${recordLabelChanges("unlabelled")}
          select id from unlabelled`);
        const threadIds = rows.map((r) => r.id);
        if (threadIds.length >= size) return { threadIds, finished: false };
        await tx.delete(categories).where(eq(categories.id, deletion.id));
        return { threadIds, finished: true };
      }),
    );
  }

  markBacklogged(threadIds: readonly string[]): Promise<void> {
    return markRequested(this.db, threadIds, "backfill");
  }
}
