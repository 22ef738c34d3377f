import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { uuidArray } from "../db/uuid-array.js";
import { MAX_CATEGORIES_PER_PROJECT } from "./limits.js";

/** A question a user labelled by hand: the thread's first question and the category chosen. */
export interface LabelExample {
  categoryId: string;
  question: string;
}

/**
 * Corrections teach: a user's label makes the thread's first question an example of the category
 * (table label_examples), which the classifier receives with every question of the project.
 */

/** The newest examples kept per category: a label write trims the category's older ones. */
export const EXAMPLES_PER_CATEGORY = 50;

/**
 * CTEs to add after `changed` (the user's label write: one thread, columns `id` and
 * `category_id`), in the same statement: the thread's first question becomes an example of its
 * new category (or moves there from its former one: one example per thread), and the category
 * keeps its newest EXAMPLES_PER_CATEGORY. The trim reads at most that many rows more along the
 * category's index, so its work is bounded whatever the history. Two labels of one category at the
 * same instant may each keep 49 others and leave 51 for a moment; the next label trims it.
 */
export function exampleFromUserLabel(changed = "changed"): SQL {
  const source = sql.raw(changed);
  return sql`example_kept as (
      insert into label_examples (thread_id, category_id, question)
      select c.id, c.category_id, t.first_question from ${source} c join threads t on t.id = c.id
      where c.category_id is not null
      on conflict (thread_id) do update set category_id = excluded.category_id, question = excluded.question,
        created_at = now()
    ), example_trimmed as (
      delete from label_examples e
      where e.thread_id in (
        select old.thread_id from label_examples old
        where old.category_id = (select category_id from ${source} limit 1)
          and old.thread_id not in (select id from ${source})
        order by old.created_at desc, old.thread_id desc
        offset ${EXAMPLES_PER_CATEGORY - 1}
      )
    )`;
}

/** A CTE to add after `changed` when a user removes a thread's label: its example goes too. */
export function exampleRemovedWithLabel(changed = "changed"): SQL {
  return sql`example_removed as (
      delete from label_examples where thread_id in (select id from ${sql.raw(changed)})
    )`;
}

/** A project's examples per category, at most this many rows whatever happens to the trim. */
const MAX_EXAMPLES_PER_PROJECT = MAX_CATEGORIES_PER_PROJECT * (EXAMPLES_PER_CATEGORY + 10);

/**
 * The examples of the given projects' live categories (a deleted category's examples are never
 * used; its row's removal deletes them), newest first, in one query: one index range per
 * category, bounded per project.
 */
export async function loadExamples(db: Db, projectIds: readonly string[]): Promise<Map<string, LabelExample[]>> {
  const byProject = new Map<string, LabelExample[]>();
  if (projectIds.length === 0) return byProject;
  const rows = await db.execute<{ project_id: string; category_id: string; question: string }>(sql`
    select p.project_id, e.category_id, e.question
    from unnest(${uuidArray(new Set(projectIds))}) as p(project_id)
    cross join lateral (
      select e.category_id, e.question, e.created_at
      from categories c join label_examples e on e.category_id = c.id
      where c.project_id = p.project_id and c.deleted_at is null
      order by e.created_at desc
      limit ${MAX_EXAMPLES_PER_PROJECT}
    ) e`);
  for (const row of rows) {
    const list = byProject.get(row.project_id) ?? [];
    list.push({ categoryId: row.category_id, question: row.question });
    byProject.set(row.project_id, list);
  }
  return byProject;
}

/** Projects whose examples a process keeps between batches. */
const CACHED_PROJECTS = 1_000;

/**
 * loadExamples behind a per-process cache checked at every batch: one aggregate per project (how
 * many examples of live categories, and a sum of hashes of their thread and category) says
 * whether anything changed, and only changed projects' rows are read again. A label, a relabel,
 * a removed label or a deleted category changes the set and so its hash sum: a correction is used
 * from the next batch on, as without the cache. Unchanged projects also keep the same array, so
 * the classifier's per-batch documents are reused.
 */
export class ExamplesCache {
  private readonly entries = new Map<string, { version: string; examples: LabelExample[] }>();

  constructor(private readonly db: Db) {}

  async load(projectIds: readonly string[]): Promise<Map<string, LabelExample[]>> {
    const result = new Map<string, LabelExample[]>();
    if (projectIds.length === 0) return result;
    const rows = await this.db.execute<{ project_id: string; version: string }>(sql`
      select c.project_id, count(*)::text || ':' || coalesce(sum(hashtext(e.thread_id::text || e.category_id::text)), 0)::text as version
      from categories c join label_examples e on e.category_id = c.id
      where c.project_id = any(${uuidArray(new Set(projectIds))}) and c.deleted_at is null
      group by c.project_id`);
    const versions = new Map(rows.map((r) => [r.project_id, r.version]));
    const stale = [...versions].filter(([id, version]) => this.entries.get(id)?.version !== version).map(([id]) => id);
    const fresh = await loadExamples(this.db, stale);
    for (const [id, version] of versions) {
      const examples = fresh.get(id) ?? this.entries.get(id)?.examples ?? [];
      this.entries.delete(id);
      this.entries.set(id, { version, examples });
      result.set(id, examples);
    }
    while (this.entries.size > CACHED_PROJECTS) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }
}
