import { sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { MIN_STORABLE_TIME } from "../db/values.js";
import type { LabelRef } from "../labels/history.js";

/** Classifier labels read per request at most: the work of a request is bounded whatever the window. */
export const QUALITY_MAX_LABELS = 20_000;
/** The window when the request names no start: this long before its end. */
export const QUALITY_DEFAULT_DAYS = 30;

/** What happened to classifier labels of one category: what the label history says came next. */
export interface QualityOutcome {
  categoryId: string;
  categoryName: string;
  /** The next change of the thread's label after it: none, or by whom and to what. */
  next: { source: "classifier" | "user" | "system"; category: LabelRef | null } | null;
  count: number;
}

export interface QualityRows {
  outcomes: QualityOutcome[];
  /** More labels in the window than the cap: the newest were read. */
  truncated: boolean;
}

export interface QualityStore {
  outcomes(projectId: string, after: Date, before: Date, cap: number): Promise<QualityRows>;
}

interface OutcomeRow extends Record<string, unknown> {
  category_id: string;
  category_name: string | null;
  next_source: "classifier" | "user" | "system" | null;
  next_category_id: string | null;
  next_category_name: string | null;
  n: string | number;
  truncated: boolean;
}

export class QualityRepository implements QualityStore {
  constructor(private readonly db: Db) {}

  /**
   * The newest `cap` classifier labels of the window, along thread_label_changes_classifier_idx
   * (project_id, at), each with the next change of its thread (one probe of the primary key
   * (thread_id, id)): at most `cap` index probes, whatever the project's size. Names are the
   * categories' current ones when they still exist, else those the history kept.
   */
  async outcomes(projectId: string, after: Date, before: Date, cap: number): Promise<QualityRows> {
    const rows = await this.db.execute<OutcomeRow>(sql`
      with window_labels as (
        select h.thread_id, h.id, h.category_id, h.category_name from thread_label_changes h
        where h.project_id = ${projectId}::uuid and h.source = 'classifier'
          and h.at >= ${after.toISOString()}::timestamptz and h.at < ${before.toISOString()}::timestamptz
        order by h.at desc limit ${cap + 1}
      ), labels as (select * from window_labels limit ${cap})
      select l.category_id, coalesce(c.name, max(l.category_name)) as category_name,
        n.source as next_source, n.category_id as next_category_id,
        coalesce(nc.name, max(n.category_name)) as next_category_name, count(*) as n,
        (select count(*) from window_labels) > ${cap} as truncated
      from labels l
      left join lateral (
        select source, category_id, category_name from thread_label_changes n
        where n.thread_id = l.thread_id and n.id > l.id order by n.id limit 1
      ) n on true
      left join categories c on c.id = l.category_id
      left join categories nc on nc.id = n.category_id
      where l.category_id is not null
      group by l.category_id, c.name, n.source, n.category_id, nc.name`);
    return {
      truncated: rows.some((r) => r.truncated),
      outcomes: rows.map((r) => ({
        categoryId: r.category_id,
        categoryName: r.category_name ?? "",
        next:
          r.next_source === null
            ? null
            : {
                source: r.next_source,
                category:
                  r.next_category_id === null ? null : { id: r.next_category_id, name: r.next_category_name ?? "" },
              },
        count: Number(r.n),
      })),
    };
  }
}

export interface CategoryQualityLine {
  id: string;
  name: string;
  classifierLabels: number;
  confirmed: number;
  unchanged: number;
  changed: number;
  replaced: number;
  changedTo: { category: LabelRef | null; count: number }[];
}

export interface CategoryQuality {
  after: Date;
  before: Date;
  labels: number;
  truncated: boolean;
  categories: CategoryQualityLine[];
}

/**
 * `GET categories/quality/`: per category, the classifier's labels of the window and what users
 * did with them since. A label is confirmed when the thread's next change is a user giving the
 * same category, changed when a user gave another (or removed it), replaced when the classifier
 * relabelled it or a category deletion removed it, and unchanged when nothing changed it since.
 */
export async function categoryQuality(
  store: QualityStore,
  projectId: string,
  range: { after?: Date; before?: Date },
  now: Date = new Date(),
): Promise<CategoryQuality> {
  const before = range.before ?? now;
  // Not before year 1: a created_before in January of year 1 would default to a date Postgres cannot read.
  const after =
    range.after ?? new Date(Math.max(MIN_STORABLE_TIME, before.getTime() - QUALITY_DEFAULT_DAYS * 86_400_000));
  const { outcomes, truncated } = await store.outcomes(projectId, after, before, QUALITY_MAX_LABELS);
  const lines = new Map<string, CategoryQualityLine>();
  for (const o of outcomes) {
    let line = lines.get(o.categoryId);
    if (!line) {
      line = {
        id: o.categoryId,
        name: o.categoryName,
        classifierLabels: 0,
        confirmed: 0,
        unchanged: 0,
        changed: 0,
        replaced: 0,
        changedTo: [],
      };
      lines.set(o.categoryId, line);
    }
    line.classifierLabels += o.count;
    if (o.next === null) line.unchanged += o.count;
    else if (o.next.source !== "user") line.replaced += o.count;
    else if (o.next.category?.id === o.categoryId) line.confirmed += o.count;
    else {
      line.changed += o.count;
      line.changedTo.push({ category: o.next.category, count: o.count });
    }
  }
  const categories = [...lines.values()]
    .map((l) => ({ ...l, changedTo: l.changedTo.sort((a, b) => b.count - a.count) }))
    .sort((a, b) => b.classifierLabels - a.classifierLabels || a.name.localeCompare(b.name));
  return { after, before, labels: categories.reduce((sum, l) => sum + l.classifierLabels, 0), truncated, categories };
}
