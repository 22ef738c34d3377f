import type { CategoryOption } from "../classifier.js";

/** What the classifier port takes and gives back, whatever the provider: the pipeline's own category options. */
export type CategoryInput = CategoryOption;

/** A question a user labelled by hand: the thread's first question and the category chosen. */
export interface LabelExample {
  categoryId: string;
  question: string;
}

export interface Classification {
  /** Always the id of one of the given categories. */
  categoryId: string;
  /** In [0, 1]: the estimated probability that the label is right. */
  confidence: number;
  /** One sentence, for people: why this category. */
  rationale: string;
}
