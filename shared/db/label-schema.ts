// The labels' own tables: their history (shared/labels/history.ts) and the examples corrections
// make (shared/labels/examples.ts), beside schema.ts; drizzle-kit reads both (drizzle.config.ts).
import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, primaryKey, real, text, uuid } from "drizzle-orm/pg-core";
import { cascadingRef, categories, createdAt, threads, timestamptz } from "./schema.js";

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
    categoryId: cascadingRef("category_id", () => categories.id),
    question: text("question").notNull(),
    createdAt: createdAt(),
  },
  // A category's examples newest first (read backwards): the trim and the classifier's load.
  (t) => [index("label_examples_category_created_idx").on(t.categoryId, t.createdAt, t.threadId)],
);

export const LABEL_CHANGE_SOURCES = ["classifier", "user", "system"] as const;
export type LabelChangeSource = (typeof LABEL_CHANGE_SOURCES)[number];

/**
 * A thread's label history: one row per change of its label (category or source), written by the
 * statement that changes it (shared/labels/history.ts), which also builds the webhook
 * event from the row. Category names are kept as they were: a category is removed in the end.
 * `id` orders a thread's changes (each waits for the thread's row lock of the one before).
 */
export const threadLabelChanges = pgTable(
  "thread_label_changes",
  {
    threadId: cascadingRef("thread_id", () => threads.id),
    id: bigint("id", { mode: "number" }).generatedAlwaysAsIdentity(),
    projectId: uuid("project_id").notNull(),
    categoryId: uuid("category_id"),
    categoryName: text("category_name"),
    previousCategoryId: uuid("previous_category_id"),
    previousCategoryName: text("previous_category_name"),
    source: text("source", { enum: LABEL_CHANGE_SOURCES }).notNull(),
    /** The API key's id (user), provider/model@version (classifier), the reason (system). */
    actor: text("actor").notNull(),
    confidence: real("confidence"),
    rationale: text("rationale"),
    at: timestamptz("at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.threadId, t.id] }),
    // categories/quality/: a project's classifier labels in a time window.
    index("thread_label_changes_classifier_idx").on(t.projectId, t.at).where(sql`${t.source} = 'classifier'`),
    check("thread_label_changes_source_check", sql`${t.source} in ('classifier', 'user', 'system')`),
  ],
);

export type ThreadLabelChangeRow = typeof threadLabelChanges.$inferSelect;
