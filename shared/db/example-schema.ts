// The label examples (shared/classification/examples.ts), beside schema.ts: drizzle-kit reads both (drizzle.config.ts).
import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { categories, createdAt, threads } from "./schema.js";

/**
 * A thread's first question that a user labelled by hand, as an example of that category for the
 * classifier: one per thread (a relabel moves it), the newest 50 per category (trimmed by the
 * label write itself), gone with the category's row (the sweeper removes a deleted category's
 * row last) or the thread's.
 */
export const labelExamples = pgTable(
  "label_examples",
  {
    threadId: uuid("thread_id")
      .primaryKey()
      .references(() => threads.id, { onDelete: "cascade" }),
    categoryId: uuid("category_id")
      .notNull()
      .references(() => categories.id, { onDelete: "cascade" }),
    question: text("question").notNull(),
    createdAt: createdAt(),
  },
  // A category's examples newest first (read backwards): the trim and the classifier's load.
  (t) => [index("label_examples_category_created_idx").on(t.categoryId, t.createdAt, t.threadId)],
);
