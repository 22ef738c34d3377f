import type { CategoryOption } from "../classifier.js";

export type { Classification, LabelExample } from "../classifier.js";

/** What the classifier port takes and gives back, whatever the provider: the pipeline's own category options. */
export type CategoryInput = CategoryOption;
