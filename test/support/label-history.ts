import { sql } from "drizzle-orm";
import type { Db } from "../../shared/db/client.js";

interface Entry {
  category_id: string | null;
  previous_category_id: string | null;
  source: string;
}

interface ThreadWithHistory extends Record<string, unknown> {
  id: string;
  category_id: string | null;
  category_source: string | null;
  history: Entry[] | string;
}

/**
 * Replays each thread's label history from "no label" and returns what disagrees with the rows:
 * an entry whose `previous` is not the label before it, an entry that changed nothing (no entry
 * without a change), or a history that does not end at the thread's label (no change without an
 * entry). Empty when history and rows agree.
 */
export async function labelHistoryProblems(db: Db, threadIds: readonly string[]): Promise<string[]> {
  const rows = await db.execute<ThreadWithHistory>(sql`
    select t.id, t.category_id, t.category_source,
      coalesce(json_agg(json_build_object('category_id', h.category_id, 'previous_category_id', h.previous_category_id,
        'source', h.source) order by h.id) filter (where h.id is not null), '[]'::json) as history
    from threads t left join thread_label_changes h on h.thread_id = t.id
    where t.id = any(${`{${threadIds.join(",")}}`}::uuid[])
    group by t.id`);
  const problems: string[] = [];
  for (const row of rows) {
    const history = typeof row.history === "string" ? (JSON.parse(row.history) as Entry[]) : row.history;
    let category: string | null = null;
    let source: string | null = null;
    history.forEach((entry, i) => {
      if (entry.previous_category_id !== category) problems.push(`${row.id} #${i}: previous is not the label before`);
      if (entry.category_id === category && (entry.category_id === null || entry.source === source))
        problems.push(`${row.id} #${i}: an entry without a change`);
      category = entry.category_id;
      source = category === null ? null : entry.source;
    });
    if (category !== row.category_id || source !== row.category_source)
      problems.push(
        `${row.id}: the history ends at ${category}/${source}, the thread is ${row.category_id}/${row.category_source}`,
      );
  }
  if (rows.length !== threadIds.length) problems.push(`${threadIds.length - rows.length} threads not found`);
  return problems;
}
