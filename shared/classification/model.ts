import type { CategoryOption } from "./classifier.js";

export interface ThreadToClassify {
  id: string;
  projectId: string;
  createdAt: Date;
  firstQuestion: string;
  categoryId: string | null;
  categorySource: "classifier" | "user" | null;
  classifiedAt: Date | null;
}

export interface ClassifierLabel {
  threadId: string;
  categoryId: string;
  /** The classifier's confidence in [0, 1], and its one-sentence reason. */
  confidence: number;
  rationale: string;
  /** Who labelled: the provider, model and version (the history's `actor`). */
  actor: string;
  mode: "unlabelled" | "reclassify";
  /** Reclassify: replace only a classifier label written before this instant (ISO-8601), the job's cutoff. */
  cutoff?: string;
}

export interface ThreadsWithCategories {
  threads: Map<string, ThreadToClassify>;
  /** Each found thread's project -> its categories by name (empty when it has none). */
  categories: Map<string, CategoryOption[]>;
}

/** A thread carries a user label only while the label's category exists. */
export const hasUserLabel = (t: Pick<ThreadToClassify, "categoryId" | "categorySource">) =>
  t.categoryId !== null && t.categorySource === "user";
