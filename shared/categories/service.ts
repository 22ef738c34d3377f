import type { CategoryRow } from "../db/schema.js";
import type { CategoryStats, LabelCount, LabelTotals } from "./model.js";
import type { CategoriesStore } from "./repository.js";

/**
 * DELETE categories/{id}/: one row marked, whatever the category's size, so it answers at once;
 * the unlabelling and relabelling of its threads is backlog work (relabel.ts, run by the sweeper).
 */
export async function deleteCategory(
  deps: { categories: CategoriesStore },
  projectId: string,
  categoryId: string,
): Promise<void> {
  await deps.categories.delete(projectId, categoryId);
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
