import type { ClassificationQueue } from "../classification/queue.js";
import { requestClassification } from "../classification/requests.js";
import type { CategoryRow } from "../db/schema.js";
import type { CategoryStats, LabelCount, LabelTotals } from "./model.js";
import type { CategoriesStore } from "./repository.js";

/**
 * Threads a deletion sends to the classifier at once; the rest, already marked as sent, reach it
 * through the sweeper (a few thousand per run), so a DELETE stays a quick request.
 */
export const RELABEL_AT_ONCE = 1000;

export async function deleteCategory(
  deps: { categories: CategoriesStore; classificationQueue: ClassificationQueue },
  projectId: string,
  categoryId: string,
): Promise<void> {
  const { unlabelled } = await deps.categories.delete(projectId, categoryId, RELABEL_AT_ONCE);
  await requestClassification(
    deps.classificationQueue,
    unlabelled.map((threadId) => ({ threadId, projectId, reason: "category-deleted" as const })),
  );
}

/**
 * Thread counts per label folded into totals: the one definition of "labelled" that
 * categories/stats/ and the analytics time series share. A thread counts as unlabelled when it
 * has no label, or when its category no longer exists.
 */
export function foldLabelCounts(counts: readonly LabelCount[], categories: readonly CategoryRow[]): LabelTotals {
  const perCategory = new Map(
    categories.map((c) => [c.id, { id: c.id, name: c.name, count: 0, bySource: { user: 0, classifier: 0 } }]),
  );
  const totals: LabelTotals = { total: 0, unlabelled: 0, bySource: { user: 0, classifier: 0 }, categories: [] };
  for (const row of counts) {
    totals.total += row.count;
    const entry = row.categoryId ? perCategory.get(row.categoryId) : undefined;
    if (!entry || !row.source) {
      totals.unlabelled += row.count;
      continue;
    }
    entry.count += row.count;
    entry.bySource[row.source] += row.count;
    totals.bySource[row.source] += row.count;
  }
  totals.categories = [...perCategory.values()];
  return totals;
}

export async function categoryStats(
  repo: CategoriesStore,
  projectId: string,
  range: { after?: Date; before?: Date },
): Promise<CategoryStats> {
  const [counts, categories] = await Promise.all([repo.labelCounts(projectId, range), repo.list(projectId)]);
  const totals = foldLabelCounts(counts, categories);
  return {
    range,
    ...totals,
    categories: totals.categories.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
  };
}
