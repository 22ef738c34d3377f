import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

// Millisecond precision so a timestamp survives a round trip through a JS Date (keyset cursors).
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });
export const createdAt = () => timestamptz("created_at").notNull().defaultNow();
/** A required reference to another table's row, deleted with it. */
export const cascadingRef = (name: string, target: () => AnyPgColumn) =>
  uuid(name).notNull().references(target, { onDelete: "cascade" });

export const teams = pgTable("teams", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    teamId: cascadingRef("team_id", () => teams.id),
    email: text("email").notNull(),
    firstName: text("first_name").notNull().default(""),
    lastName: text("last_name").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`), index("users_team_idx").on(t.teamId)],
);

export const projects = pgTable(
  "projects",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    teamId: cascadingRef("team_id", () => teams.id),
    projectName: text("project_name").notNull(),
    productName: text("product_name").notNull().default(""),
    /** Kept in the chat transaction so the threads list never has to count a million rows. */
    threadCount: integer("thread_count").notNull().default(0),
    /** Classifier labels less confident than this are in the review queue (`GET threads/?review=true`). */
    reviewThreshold: doublePrecision("review_threshold").notNull().default(0.5),
    createdAt: createdAt(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("projects_team_idx").on(t.teamId),
    check("projects_review_threshold_check", sql`${t.reviewThreshold} between 0 and 1`),
  ],
);

export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** Public part of the key, shown in listings and used to find the row. */
  prefix: text("prefix").notNull().unique(),
  /** sha256 of the whole key, hex. */
  hash: text("hash").notNull(),
  /** Issued in the signed format (shared/auth/key-format.ts); false: a key from before it. */
  signed: boolean("signed").notNull().default(false),
  revoked: boolean("revoked").notNull().default(false),
  revokedAt: timestamptz("revoked_at"),
  expiresAt: timestamptz("expires_at"),
  createdAt: createdAt(),
});

/**
 * The one secret new API keys are signed with (shared/auth/key-format.ts), made on first use.
 * It only lets the authorizer refuse forged keys without a lookup: knowing it does not make a
 * key valid (the key's hash must still match a row).
 */
export const apiKeySigning = pgTable(
  "api_key_signing",
  {
    id: smallint("id").primaryKey().default(1),
    secret: text("secret").notNull(),
    createdAt: createdAt(),
  },
  (t) => [check("api_key_signing_one_row", sql`${t.id} = 1`)],
);

export const apiKeyProjects = pgTable(
  "api_key_projects",
  {
    apiKeyId: cascadingRef("api_key_id", () => apiKeys.id),
    projectId: cascadingRef("project_id", () => projects.id),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.projectId] }), index("api_key_projects_project_idx").on(t.projectId)],
);

export const categories = pgTable(
  "categories",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: cascadingRef("project_id", () => projects.id),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    createdAt: createdAt(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
    /**
     * Set by DELETE categories/{id}/: the category is gone from the API and from new labels at
     * once; its threads are unlabelled in bounded batches (shared/categories/unlabel.ts), then the
     * row is removed. Until then a label pointing at it reads as no label.
     */
    deletedAt: timestamptz("deleted_at"),
  },
  (t) => [
    uniqueIndex("categories_project_name_key")
      .on(t.projectId, sql`lower(${t.name})`)
      .where(sql`${t.deletedAt} is null`),
    // A project's categories, deleted ones too (the unique index above leaves those out).
    index("categories_project_idx").on(t.projectId),
    // The deletions still unlabelling: what the sweeper drives.
    index("categories_deleted_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
  ],
);

export const CATEGORY_SOURCES = ["classifier", "user"] as const;
export type CategorySource = (typeof CATEGORY_SOURCES)[number];

export const threads = pgTable(
  "threads",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: cascadingRef("project_id", () => projects.id),
    createdAt: createdAt(),
    firstQuestion: text("first_question").notNull(),
    questionCount: integer("question_count").notNull().default(1),
    /** The label. A thread is labelled iff category_id is set; source and time describe that label. */
    categoryId: uuid("category_id").references(() => categories.id, { onDelete: "set null" }),
    categorySource: text("category_source", { enum: CATEGORY_SOURCES }),
    classifiedAt: timestamptz("classified_at"),
    /** The classifier's confidence in its label, in [0, 1], and why it chose it; null for a user's label. */
    categoryConfidence: real("category_confidence"),
    categoryRationale: text("category_rationale"),
    /** When the thread was last sent to the classifier: the sweeper re-sends only after a grace period. */
    classificationRequestedAt: timestamptz("classification_requested_at"),
  },
  // Every list index is plain ascending and read backwards for newest first: drizzle's .desc()
  // adds NULLS LAST, which `ORDER BY ... DESC` cannot use.
  (t) => [
    index("threads_project_created_idx").on(t.projectId, t.createdAt, t.id),
    index("threads_project_category_idx").on(t.projectId, t.categoryId, t.createdAt, t.id),
    index("threads_project_source_idx").on(t.projectId, t.categorySource, t.createdAt, t.id),
    // The unlabelled threads, by id: what the backfill walks in id ranges; small once labelled.
    index("threads_unlabelled_idx").on(t.id).where(sql`${t.categoryId} is null`),
    // A project's threads by id: the project-scoped backfill walks (POST reclassify/), range by
    // range and chunk by chunk, in time proportional to the project, whatever its size.
    index("threads_project_id_idx").on(t.projectId, t.id),
    // The unlabelled threads by when they were last sent to the classifier: what the sweeper reads.
    index("threads_unlabelled_due_idx")
      .on(sql`coalesce(${t.classificationRequestedAt}, ${t.createdAt})`)
      .where(sql`${t.categoryId} is null`),
    // The same per project: the sweeper takes at most a fair share of each project's, one index range each.
    index("threads_unlabelled_project_due_idx")
      .on(t.projectId, sql`coalesce(${t.classificationRequestedAt}, ${t.createdAt})`)
      .where(sql`${t.categoryId} is null`),
    // The review queue: classifier labels of a project, least confident first, one index range
    // below the threshold; a confirmed label (source user) leaves it.
    index("threads_review_idx")
      .on(t.projectId, t.categoryConfidence, t.id)
      .where(sql`${t.categorySource} = 'classifier'`),
    check("threads_category_source_check", sql`${t.categorySource} in ('classifier', 'user')`),
    check("threads_category_confidence_check", sql`${t.categoryConfidence} between 0 and 1`),
  ],
);

export const questionAnswers = pgTable(
  "question_answers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    threadId: cascadingRef("thread_id", () => threads.id),
    /** 1, 2, 3... within the thread: the conversation's order, even within one millisecond. */
    position: integer("position").notNull(),
    question: text("question").notNull(),
    answer: text("answer").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("question_answers_thread_position_key").on(t.threadId, t.position),
    // Questions asked in a time range (analytics: the edges of a range that the rollup cannot cut).
    index("question_answers_created_idx").on(t.createdAt, t.threadId),
  ],
);

/**
 * Analytics rollup: a project's thread and question counts per UTC time slot of three grains
 * (15 minutes, 1 hour, 6 hours, 1 day) and per label (category_id, category_source; both null for
 * unlabelled threads, whose row also carries the slot's `questions`). Kept exact by statement
 * triggers on threads and question_answers (drizzle/0005_analytics.sql), in the same statement as
 * every write, so it always agrees with the rows. See docs/analytics.md.
 */
export const threadRollups = pgTable(
  "thread_rollups",
  {
    projectId: cascadingRef("project_id", () => projects.id),
    grainMinutes: smallint("grain_minutes").notNull(),
    slotStart: timestamptz("slot_start").notNull(),
    /** No foreign key: a deleted category's rows read as unlabelled, as in categories/stats/. */
    categoryId: uuid("category_id"),
    categorySource: text("category_source", { enum: CATEGORY_SOURCES }),
    threads: integer("threads").notNull().default(0),
    questions: integer("questions").notNull().default(0),
  },
  (t) => [
    unique("thread_rollups_key")
      .on(t.projectId, t.grainMinutes, t.slotStart, t.categoryId, t.categorySource)
      .nullsNotDistinct(),
  ],
);

export type ThreadRow = typeof threads.$inferSelect;
export type CategoryRow = typeof categories.$inferSelect;
export type QuestionAnswerRow = typeof questionAnswers.$inferSelect;

export const REPORT_RUN_STATUSES = ["sending", "sent", "failed"] as const;
export type ReportRunStatus = (typeof REPORT_RUN_STATUSES)[number];

/**
 * One team's usage report for one period (an ISO week, `YYYY-Www`): the unique (team, period)
 * row that makes the report go out once. A sender claims it with a conditional upsert
 * (shared/reports/repository.ts); `attempts` counts the claims and fences them: only the latest
 * claimant may finish the run.
 */
export const reportRuns = pgTable(
  "report_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    teamId: cascadingRef("team_id", () => teams.id),
    period: text("period").notNull(),
    status: text("status", { enum: REPORT_RUN_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(1),
    /** Users the report reached so far (its report_deliveries rows). */
    recipients: integer("recipients").notNull().default(0),
    /** Why the last attempt failed; null once sent. */
    error: text("error"),
    /** When the current claim was taken: a 'sending' run whose claim is older than the lease may be taken over. */
    claimedAt: timestamptz("claimed_at").notNull().defaultNow(),
    sentAt: timestamptz("sent_at"),
    createdAt: createdAt(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("report_runs_team_period_key").on(t.teamId, t.period),
    check("report_runs_status_check", sql`${t.status} in ('sending', 'sent', 'failed')`),
  ],
);

/** One email of a run, recorded right after SES accepted it: a retried run skips these users. */
export const reportDeliveries = pgTable(
  "report_deliveries",
  {
    runId: cascadingRef("run_id", () => reportRuns.id),
    userId: cascadingRef("user_id", () => users.id),
    /** The address it went to (the user's may change later). */
    email: text("email").notNull(),
    /** SES's MessageId. */
    messageId: text("message_id").notNull(),
    sentAt: timestamptz("sent_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.userId] }), index("report_deliveries_user_idx").on(t.userId)],
);

export type ReportRunRow = typeof reportRuns.$inferSelect;

/**
 * Backfill jobs that are enqueueing (their execution runs): the lock that makes starting a job
 * atomic. One unfinished row per project (all projects: the nil uuid) and scope, by the partial
 * unique index; a second start conflicts on it. The execution stays the job's record; a row is
 * finished once its execution is seen stopped (shared/backfill/repository.ts).
 */
export const backfillJobs = pgTable(
  "backfill_jobs",
  {
    id: uuid("id").primaryKey(),
    projectId: uuid("project_id"),
    scope: text("scope").notNull(),
    startedAt: timestamptz("started_at").notNull().defaultNow(),
    finishedAt: timestamptz("finished_at"),
    /**
     * While the job is labelling (its execution stopped, threads still pending): the pending count
     * last seen and when it last went down. A job whose count stops going down (threads dead-lettered,
     * a project without categories) releases its slot after a while (shared/backfill/service.ts).
     */
    pending: integer("pending"),
    progressedAt: timestamptz("progressed_at"),
  },
  (t) => [
    uniqueIndex("backfill_jobs_running_key")
      .on(sql`coalesce(${t.projectId}, '00000000-0000-0000-0000-000000000000'::uuid)`, t.scope)
      .where(sql`${t.finishedAt} is null`),
  ],
);
export const EXPORT_FORMATS = ["csv", "ndjson"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_STATUSES = ["queued", "running", "done", "failed"] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** The thread filters of an export, as the list takes them (dates as ISO strings). */
export interface ExportFilters {
  category?: string;
  source?: CategorySource;
  createdAfter?: string;
  createdBefore?: string;
}

/**
 * One bulk export of a project's threads (shared/exports/): written by the export worker into
 * the object `s3_key` (random, unguessable) of the export bucket. `attempts` counts the worker's
 * claims and fences them: only the latest claimant may finish the export.
 */
export const threadExports = pgTable(
  "thread_exports",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: cascadingRef("project_id", () => projects.id),
    format: text("format", { enum: EXPORT_FORMATS }).notNull(),
    includeQuestions: boolean("include_questions").notNull().default(false),
    filters: jsonb("filters").$type<ExportFilters>().notNull().default({}),
    /** queued until a worker claims it, running while the worker heartbeats, then done or failed. */
    status: text("status", { enum: EXPORT_STATUSES }).notNull().default("queued"),
    /** Threads written so far (running) or in the file (done). */
    rows: integer("rows").notNull().default(0),
    s3Key: text("s3_key").notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** Why the export failed, for operators (the API does not show it). */
    error: text("error"),
    createdAt: createdAt(),
    /** Last change: the request while queued, the worker's heartbeat while running. */
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
    finishedAt: timestamptz("finished_at"),
  },
  (t) => [
    index("thread_exports_project_idx").on(t.projectId, t.createdAt),
    // The per-project cap counts only unfinished exports, whatever the project's history.
    index("thread_exports_unfinished_idx").on(t.projectId).where(sql`${t.status} in ('queued', 'running')`),
    check("thread_exports_status_check", sql`${t.status} in ('queued', 'running', 'done', 'failed')`),
    check("thread_exports_format_check", sql`${t.format} in ('csv', 'ndjson')`),
  ],
);

export type ThreadExportRow = typeof threadExports.$inferSelect;
