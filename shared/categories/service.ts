import type { ClassificationQueue } from "../classification/queue.js";
import { requestClassification } from "../classification/requests.js";
import type { CategoryRow } from "../db/schema.js";
import type { CategoryResource, CategoryStatsResource } from "../http/schemas.js";
import type { CategoriesRepository, LabelCount } from "./repository.js";

/**
 * Threads a deletion sends to the classifier at once; the rest, already marked as sent, reach it
 * through the sweeper (a few thousand per run), so a DELETE stays a quick request.
 */
export const RELABEL_AT_ONCE = 1000;

export function toCategoryResource(row: CategoryRow): CategoryResource {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function deleteCategory(
  deps: { categories: CategoriesRepository; classificationQueue: ClassificationQueue },
  projectId: string,
  categoryId: string,
): Promise<void> {
  const { unlabelled } = await deps.categories.delete(projectId, categoryId, RELABEL_AT_ONCE);
  await requestClassification(
    deps.classificationQueue,
    unlabelled.map((threadId) => ({ threadId, reason: "category-deleted" as const })),
  );
}

type SourceCounts = { user: number; classifier: number };

export interface LabelTotals {
  total: number;
  unlabelled: number;
  by_source: SourceCounts;
  /** Every category of the project, in the order given, with its count (0 when none). */
  categories: { id: string; name: string; count: number; by_source: SourceCounts }[];
}

/**
 * Thread counts per label folded into totals: the one definition of "labelled" that
 * categories/stats/ and the analytics time series share. A thread counts as unlabelled when it
 * has no label, or when its category no longer exists.
 */
export function foldLabelCounts(counts: readonly LabelCount[], categories: readonly CategoryRow[]): LabelTotals {
  const perCategory = new Map(
    categories.map((c) => [c.id, { id: c.id, name: c.name, count: 0, by_source: { user: 0, classifier: 0 } }]),
  );
  const totals: LabelTotals = { total: 0, unlabelled: 0, by_source: { user: 0, classifier: 0 }, categories: [] };
  for (const row of counts) {
    totals.total += row.count;
    const entry = row.categoryId ? perCategory.get(row.categoryId) : undefined;
    if (!entry || !row.source) {
      totals.unlabelled += row.count;
      continue;
    }
    entry.count += row.count;
    entry.by_source[row.source] += row.count;
    totals.by_source[row.source] += row.count;
  }
  totals.categories = [...perCategory.values()];
  return totals;
}

export async function categoryStats(
  repo: CategoriesRepository,
  projectId: string,
  range: { after?: Date; before?: Date },
): Promise<CategoryStatsResource> {
  const [counts, categories] = await Promise.all([repo.labelCounts(projectId, range), repo.list(projectId)]);
  const totals = foldLabelCounts(counts, categories);
  return {
    created_after: range.after?.toISOString() ?? null,
    created_before: range.before?.toISOString() ?? null,
    ...totals,
    categories: totals.categories.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
  };
}
