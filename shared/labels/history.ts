import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import type { LabelChangeSource } from "../db/label-schema.js";
import { labelEventsFrom } from "../webhooks/outbox.js";

/**
 * The label history's writes and reads. Every statement that changes a thread's label ends with
 * `recordLabelChanges()`: the history row and its webhook event are written by the statement of
 * the change, so one commits or rolls back with the other.
 *
 *     with changed as (update threads ... returning ...), ${recordLabelChanges()} select ...
 *
 * `changed` (or the CTE named) must have the columns `id` (thread), `project_id`, `category_id`,
 * `source` (classifier | user | system), `actor`, `confidence` and `rationale` (null but for the
 * classifier), `previous_category_id` and `previous_source` (the row before the write).
 *
 * A row is a change when the category differs, or when a label is kept but its source differs
 * (a user confirming the classifier's label). Writing what was already there records nothing.
 * The category names are read in the same statement (a category being deleted is still there).
 */
export function recordLabelChanges(changed = "changed"): SQL {
  return sql`label_history as (
      insert into thread_label_changes (thread_id, project_id, category_id, category_name, previous_category_id,
        previous_category_name, source, actor, confidence, rationale, at)
      select c.id, c.project_id, c.category_id, nc.name, c.previous_category_id, pc.name,
        c.source, c.actor, c.confidence, c.rationale, now()
      from ${sql.raw(changed)} c
      left join categories nc on nc.id = c.category_id
      left join categories pc on pc.id = c.previous_category_id
      where c.category_id is distinct from c.previous_category_id
        or (c.category_id is not null and c.source is distinct from c.previous_source)
      returning *
    ), label_events as (${labelEventsFrom("label_history")})`;
}

/**
 * The label columns of the threads a write is about to change, each row locked and read at its
 * newest version: the `previous_*` columns of `changed` come from here. A self-join of threads in
 * the UPDATE would not do: when the UPDATE waits for a concurrent writer, Postgres re-reads the
 * updated row but not the joined one, and "previous" would be the label before the other write.
 * In id order, so that two batches lock their common threads in the same order.
 */
export function lockedLabels(where: SQL): SQL {
  return sql`select id, category_id, category_source from threads where ${where} order by id for update`;
}

/** The `actor` of a system change: why the label changed. */
export const CATEGORY_DELETED = "category_deleted";

export interface LabelRef {
  id: string;
  name: string;
}

/** One change of a thread's label. */
export interface LabelChange {
  id: number;
  category: LabelRef | null;
  previous: LabelRef | null;
  source: LabelChangeSource;
  actor: string;
  confidence: number | null;
  rationale: string | null;
  at: Date;
}

export interface LabelChangePage {
  changes: LabelChange[];
  hasMore: boolean;
}

/** The port of the history's reads: the service takes it; LabelHistoryRepository is the Postgres adapter. */
export interface LabelHistoryStore {
  /** A thread's changes after `afterId`, oldest first; null when the thread is not in this project. */
  changes(projectId: string, threadId: string, afterId: number, limit: number): Promise<LabelChangePage | null>;
}

interface ChangeRow extends Record<string, unknown> {
  id: string | number;
  category_id: string | null;
  category_name: string | null;
  previous_category_id: string | null;
  previous_category_name: string | null;
  source: LabelChangeSource;
  actor: string;
  confidence: number | null;
  rationale: string | null;
  at: string | Date;
}

const ref = (id: string | null, name: string | null): LabelRef | null =>
  id === null ? null : { id, name: name ?? "" };

export class LabelHistoryRepository implements LabelHistoryStore {
  constructor(private readonly db: Db) {}

  /** One range of the primary key (thread_id, id); the thread's project is checked in the same statement. */
  async changes(projectId: string, threadId: string, afterId: number, limit: number): Promise<LabelChangePage | null> {
    const rows = await this.db.execute<ChangeRow & { found: boolean }>(sql`
      with thread as (select id from threads where id = ${threadId}::uuid and project_id = ${projectId}::uuid)
      select true as found, h.id, h.category_id, h.category_name, h.previous_category_id, h.previous_category_name,
        h.source, h.actor, h.confidence, h.rationale, h.at
      from thread left join lateral (
        select * from thread_label_changes h
        where h.thread_id = thread.id and h.id > ${afterId}
        order by h.id limit ${limit + 1}
      ) h on true`);
    if (rows.length === 0) return null;
    const changes = rows.filter((r) => r.id !== null).map(toChange);
    return { changes: changes.slice(0, limit), hasMore: changes.length > limit };
  }
}

function toChange(row: ChangeRow): LabelChange {
  return {
    id: Number(row.id),
    category: ref(row.category_id, row.category_name),
    previous: ref(row.previous_category_id, row.previous_category_name),
    source: row.source,
    actor: row.actor,
    confidence: row.confidence === null ? null : Number(row.confidence),
    rationale: row.rationale,
    at: new Date(row.at),
  };
}

/** A history cursor: the id of the last change of the page before. */
export const encodeHistoryCursor = (id: number) => Buffer.from(`h|${id}`).toString("base64url");

/** Only a cursor this API wrote: `Number` reads "", " 7", "1e3" and "0x10" too, base64url skips stray characters. */
export function decodeHistoryCursor(value: string): number | null {
  const id = /^h\|(0|[1-9][0-9]{0,15})$/.exec(Buffer.from(value, "base64url").toString("utf8"))?.[1];
  const parsed = Number(id);
  return id !== undefined && Number.isSafeInteger(parsed) && encodeHistoryCursor(parsed) === value ? parsed : null;
}
