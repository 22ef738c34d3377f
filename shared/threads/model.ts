import type { CategorySource, QuestionAnswerRow } from "../db/schema.js";
import type { Cursor } from "./cursor.js";

/** Threads a list page holds when the request names no limit. */
export const DEFAULT_LIST_LIMIT = 100;

export interface StoredAnswer {
  threadId: string;
  questionAnswerId: string;
}

export type PagePosition = { kind: "offset"; offset: number } | { kind: "cursor"; cursor: Cursor };

export interface ThreadFilters {
  /** A category id, or "none" for unlabelled threads. */
  category?: string;
  source?: CategorySource;
  createdAfter?: Date;
  createdBefore?: Date;
  /** The review queue: classifier labels less confident than this, least confident first. */
  confidenceBelow?: number;
}

/** A thread with its label resolved to the category's current name. */
export interface ThreadView {
  id: string;
  projectId: string;
  createdAt: Date;
  firstQuestion: string;
  questionCount: number;
  categoryId: string | null;
  categoryName: string | null;
  categorySource: CategorySource | null;
  /** The classifier's confidence in its label; null for a user's label. */
  categoryConfidence: number | null;
  classifiedAt: Date | null;
}

export interface ThreadPage {
  rows: ThreadView[];
  /** Whether more rows exist beyond the page in the direction it was read. */
  hasMore: boolean;
}

/** A thread with its questions and answers, in order. */
export interface ThreadDetail {
  thread: ThreadView;
  answers: QuestionAnswerRow[];
}

/** A question answered and stored: the thread it went to, new or continued. */
export interface ChatAnswer extends StoredAnswer {
  question: string;
  answer: string;
}

/** One page of a project's threads, with the links to the pages around it (null: none). */
export interface ThreadList {
  count: number;
  next: string | null;
  previous: string | null;
  threads: ThreadView[];
}
