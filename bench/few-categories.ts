import type { Evidence, LocalClassifier } from "../shared/classification/local/classifier.js";
import { corrections, type IntentDataSet } from "./intent-data.js";

/** One question asked of a few of a data set's categories: was the label right, and what the confidence read. */
export interface FewCategoryLabel {
  right: boolean;
  inScope: boolean;
  confidence: number;
  evidence: Evidence;
}

/**
 * A project with only `k` categories: each run of `k` consecutive categories of the data set (as
 * many runs as categories), with their first `perCategory` corrections, is asked every question
 * of `split`. Questions of the other intents belong to none of the `k`, so any label they get is
 * wrong: this is where a confidence that reads only the margin between few options fails.
 */
export function fewCategoryLabels(
  classifier: LocalClassifier,
  data: IntentDataSet,
  split: "val" | "test",
  k: number,
  perCategory: number,
): FewCategoryLabel[] {
  const all = data.categories;
  const labels: FewCategoryLabel[] = [];
  for (let start = 0; start < all.length; start++) {
    const chosen = Array.from({ length: k }, (_, j) => all[(start + j) % all.length] as (typeof all)[number]);
    const ids = new Set(chosen.map((c) => c.id));
    const examples = corrections(data, perCategory).filter((e) => ids.has(e.categoryId));
    for (const q of data[split]) {
      const scored = classifier.score(q.text, chosen, examples);
      if (!scored.evidence) continue;
      labels.push({
        right: chosen[scored.best]?.id === q.intent,
        inScope: ids.has(q.intent),
        confidence: classifier.confidence(scored.evidence),
        evidence: scored.evidence,
      });
    }
  }
  return labels;
}
