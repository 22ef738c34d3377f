import type { LabelExample } from "../labels/examples.js";
import { DomainError, named } from "../platform/errors.js";

export interface CategoryOption {
  id: string;
  name: string;
  description: string;
}

export type { LabelExample };

export interface Classification {
  /** Always the id of one of the given categories. */
  categoryId: string;
  /** In [0, 1]: the estimated probability that the label is right. */
  confidence: number;
  /** One sentence, for people: why this category. */
  rationale: string;
  /** The provider, model and version that chose it (`local/...@1`), for the label history. */
  model?: string;
}

/**
 * A project's review threshold until it sets its own: classifier labels less confident than this
 * go to the review queue until a user confirms or changes them (docs/classification.md).
 */
export const DEFAULT_REVIEW_THRESHOLD = 0.5;

/** The label history's actor for a classification that does not name its model. */
export const UNNAMED_CLASSIFIER = "unknown";

/**
 * The classifier port: chooses one of the project's categories for a thread's first question,
 * from the categories' names and descriptions and the project's labelled examples.
 */
export interface Classifier {
  classify(
    question: string,
    categories: readonly CategoryOption[],
    examples: readonly LabelExample[],
  ): Promise<Classification>;
}

export class NoCategoriesError extends named("NoCategoriesError", DomainError) {
  constructor() {
    super("cannot classify among zero categories");
  }
}
