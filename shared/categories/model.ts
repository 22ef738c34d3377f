import type { CategorySource } from "../db/schema.js";

export interface LabelCount {
  categoryId: string | null;
  source: CategorySource | null;
  count: number;
}

export interface SourceCounts {
  user: number;
  classifier: number;
}

/** Thread counts folded over a project's categories (foldLabelCounts). */
export interface LabelTotals {
  total: number;
  unlabelled: number;
  bySource: SourceCounts;
  /** Every category of the project, in the order given, with its count (0 when none). */
  categories: { id: string; name: string; count: number; bySource: SourceCounts }[];
}

/** The label totals of the threads created in a range, categories by count (largest first). */
export interface CategoryStats extends LabelTotals {
  range: { after?: Date; before?: Date };
}
