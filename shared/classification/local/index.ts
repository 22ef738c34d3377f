export { NoCategoriesError } from "../classifier.js";
export { DEFAULT_OPTIONS, DEFAULT_VECTORS_PATH, LocalClassifier, type LocalOptions } from "./classifier.js";
export type { CategoryInput, Classification, LabelExample } from "./types.js";

/** Labels below this confidence go to the review queue until a user confirms or changes them. */
export const DEFAULT_REVIEW_THRESHOLD = 0.5;
