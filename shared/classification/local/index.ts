export { DEFAULT_REVIEW_THRESHOLD, NoCategoriesError } from "../classifier.js";
export { DEFAULT_OPTIONS, DEFAULT_VECTORS_PATH, LocalClassifier, type LocalOptions } from "./classifier.js";
export type { CategoryInput, Classification, LabelExample } from "./types.js";
