import { inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { classifyDbError } from "../db/errors.js";
import { categories, threads } from "../db/schema.js";
import { uuidArray } from "../db/uuid-array.js";
import { ExamplesCache } from "../labels/examples.js";
import { lockedLabels, recordLabelChanges } from "../labels/history.js";
import type { CategoryOption, LabelExample } from "./classifier.js";
import type { ClassifierLabel, ThreadsWithCategories, ThreadToClassify } from "./model.js";
import { markRequested } from "./requested.js";

/** A row of threadsWithCategories: the driver hands timestamps over as text, json parsed. */
interface BatchRow extends Record<string, unknown> {
  id: string;
  project_id: string;
  created_at: string | Date;
  first_question: string;
  category_id: string | null;
  category_source: ThreadToClassify["categorySource"];
  classified_at: string | Date | null;
  options: CategoryOption[] | string | null;
}

const isForeignKeyViolation = (error: unknown) => classifyDbError(error)?.kind === "foreign-key";

/** The port of the classifier's reads and conditional label writes: services take it, tests fake it; LabelsRepository is the Postgres adapter. */
export interface LabelsStore {
  threadsByIds(ids: readonly string[]): Promise<Map<string, ThreadToClassify>>;
  threadsWithCategories(ids: readonly string[]): Promise<ThreadsWithCategories>;
  /** Each project's label examples (its users' corrections), of live categories only. */
  examplesFor(projectIds: readonly string[]): Promise<Map<string, LabelExample[]>>;
  writeClassifierLabels(labels: readonly ClassifierLabel[]): Promise<Set<string>>;
  writeClassifierLabel(label: ClassifierLabel): Promise<boolean>;
  /** Marks threads as sent to the live or the backfill queue (./requested.ts). */
  markRequested(threadIds: readonly string[], queue?: "live" | "backfill"): Promise<void>;
  dueForSweep(graceSeconds: number, lookbackHours: number, limit: number): Promise<SweepCandidate[]>;
}

/** A thread the sweeper sends again: its project, and its place (1, 2, ...) among the project's. */
export interface SweepCandidate {
  id: string;
  projectId: string;
  rank: number;
}

/** The label writes and reads of the classification pipeline: the Postgres adapter. */
export class LabelsRepository implements LabelsStore {
  private readonly examples: ExamplesCache;

  constructor(private readonly db: Db) {
    this.examples = new ExamplesCache(db);
  }

  async threadsByIds(ids: readonly string[]): Promise<Map<string, ThreadToClassify>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .select({
        id: threads.id,
        projectId: threads.projectId,
        createdAt: threads.createdAt,
        firstQuestion: threads.firstQuestion,
        categoryId: threads.categoryId,
        categorySource: threads.categorySource,
        classifiedAt: threads.classifiedAt,
      })
      .from(threads)
      .where(inArray(threads.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * A batch's threads and the categories of every project among them, in one query (one round
   * trip per batch; each project's set is read once however many of its threads are in it).
   * The ids go as one array parameter, so the statement is the same for any batch size.
   */
  async threadsWithCategories(ids: readonly string[]): Promise<ThreadsWithCategories> {
    const found: ThreadsWithCategories = { threads: new Map(), categories: new Map() };
    if (ids.length === 0) return found;
    const rows = await this.db.execute<BatchRow>(sql`
      with t as (
        select id, project_id, created_at, first_question, category_id, category_source, classified_at
        from ${threads} where id = any(${uuidArray(ids)})
      ), options as (
        select project_id,
          json_agg(json_build_object('id', id, 'name', name, 'description', description) order by name) as options
        from ${categories} where project_id in (select project_id from t) and deleted_at is null
        group by project_id
      )
      select t.*, options.options from t left join options using (project_id)`);
    for (const row of rows) {
      found.threads.set(row.id, {
        id: row.id,
        projectId: row.project_id,
        createdAt: new Date(row.created_at),
        firstQuestion: row.first_question,
        categoryId: row.category_id,
        categorySource: row.category_source,
        classifiedAt: row.classified_at === null ? null : new Date(row.classified_at),
      });
      const options = typeof row.options === "string" ? (JSON.parse(row.options) as CategoryOption[]) : row.options;
      found.categories.set(row.project_id, options ?? []);
    }
    return found;
  }

  examplesFor(projectIds: readonly string[]): Promise<Map<string, LabelExample[]>> {
    return this.examples.load(projectIds);
  }

  /**
   * The classifier's conditional writes, in one statement. A label lands only if its thread is
   * still unlabelled (or, when reclassifying, labelled by the classifier), so a user's label is
   * never replaced: under concurrent writes Postgres re-checks the condition on the row's newest
   * version. A category deleted meanwhile makes it land nowhere (the existence check, or the
   * foreign key once the deletion holds the category's lock; then each label is tried alone).
   * Returns the ids of the threads whose label was written.
   */
  async writeClassifierLabels(labels: readonly ClassifierLabel[]): Promise<Set<string>> {
    if (labels.length === 0) return new Set();
    const values = sql.join(
      labels.map(
        (l) =>
          sql`(${l.threadId}::uuid, ${l.categoryId}::uuid, ${l.confidence}::real, ${l.rationale}::text, ${l.actor}::text, ${l.mode === "reclassify"}, ${l.cutoff ?? null}::timestamptz)`,
      ),
      sql`, `,
    );
    try {
      // One statement with its history entries and webhook events (the outbox): `old` is the row
      // before the write (locked and read at its newest, see lockedLabels). The share lock on each
      // category waits for a deletion in progress and then sees it (the row is re-read): no label
      // is written to a category marked deleted, and a deletion's last step waits for the writes
      // that saw the category alive (shared/categories/unlabel.ts). The threads are locked after
      // their categories (`old` reads `live`), the order the deletion takes them in too.
      const rows = await this.db.execute<{ id: string }>(sql`
        with v(thread_id, category_id, confidence, rationale, actor, reclassify, cutoff) as (values ${values}),
        live as (
          select id, project_id from categories
          where id in (select category_id from v) and deleted_at is null
          for share
        ),
        old as materialized (${lockedLabels(sql`id in (select v.thread_id from v join live on live.id = v.category_id)`)}),
        changed as (
          update threads t
          set category_id = v.category_id, category_source = 'classifier', classified_at = now(),
            category_confidence = v.confidence, category_rationale = v.rationale
          from v join live c on c.id = v.category_id, old
          where t.id = v.thread_id and old.id = t.id and c.project_id = t.project_id
            and (t.category_id is null or (v.reclassify and t.category_source = 'classifier'
              and (v.cutoff is null or t.classified_at is null or t.classified_at < v.cutoff)))
          returning t.id, t.project_id, t.category_id, 'classifier'::text as source, v.actor,
            t.category_confidence as confidence, t.category_rationale as rationale,
            old.category_id as previous_category_id, old.category_source as previous_source
        ), ${recordLabelChanges()}
        select id from changed`);
      return new Set(rows.map((r) => r.id));
    } catch (error) {
      if (!isForeignKeyViolation(error) || labels.length === 1) {
        if (isForeignKeyViolation(error)) return new Set();
        throw error;
      }
      const written = new Set<string>();
      for (const label of labels) {
        for (const id of await this.writeClassifierLabels([label])) written.add(id);
      }
      return written;
    }
  }

  async writeClassifierLabel(label: ClassifierLabel): Promise<boolean> {
    return (await this.writeClassifierLabels([label])).has(label.threadId);
  }

  /** Marks threads as just sent to the classifier, so the sweeper waits a grace period (longer for backfill). */
  markRequested(threadIds: readonly string[], queue: "live" | "backfill" = "live"): Promise<void> {
    return markRequested(this.db, threadIds, queue);
  }

  /**
   * Unlabelled threads whose last request to the classifier (or creation) is older than the
   * grace period but within the look-back window, in projects that have categories, at most
   * `limit`, each project at most a fair share: the run's budget divided among the projects that
   * have such threads. Two statements, each bounded: one index probe per project (which projects
   * are due), then at most a share per project along `threads_unlabelled_project_due_idx`. Each
   * thread's rank within its project says how many of the project's come before it.
   */
  async dueForSweep(graceSeconds: number, lookbackHours: number, limit: number): Promise<SweepCandidate[]> {
    const due = sql`coalesce(t.classification_requested_at, t.created_at)`;
    const window = sql`${due} < now() - make_interval(secs => ${graceSeconds})
      and ${due} >= now() - make_interval(hours => ${lookbackHours})`;
    const dueProjects = sql`
      select p.id from projects p
      where exists (select 1 from categories c where c.project_id = p.id and c.deleted_at is null)
        and exists (select 1 from threads t where t.project_id = p.id and t.category_id is null and ${window})`;
    const [counted] = await this.db.execute<{ n: string | number }>(sql`select count(*) as n from (${dueProjects}) d`);
    const projects = Number(counted?.n ?? 0);
    if (projects === 0) return [];
    const share = Math.max(1, Math.ceil(limit / projects));
    const rows = await this.db.execute<{ id: string; project_id: string; rank: string | number }>(sql`
      select d.id, d.project_id, d.rank from (${dueProjects}) p
      cross join lateral (
        select t.id, t.project_id, ${due} as due, row_number() over (order by ${due}) as rank
        from threads t
        where t.project_id = p.id and t.category_id is null and ${window}
        order by ${due} limit ${share}
      ) d
      order by d.rank, d.due
      limit ${limit}`);
    return rows.map((r) => ({ id: r.id, projectId: r.project_id, rank: Number(r.rank) }));
  }
}
