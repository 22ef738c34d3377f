import { z } from "zod";
import { BACKFILL_SCOPES } from "../backfill/model.js";

/** The zod schemas of the API: request validation, response types and the OpenAPI document. */

const uuid = (what: string) => z.string().uuid({ message: `${what} must be a UUID` });

export const projectPath = z.object({ project_id: uuid("project_id") });
export const threadPath = projectPath.extend({ thread_id: uuid("thread_id") });
export const categoryPath = projectPath.extend({ category_id: uuid("category_id") });

export const MAX_QUESTION_LENGTH = 8000;
export const MAX_LIST_LIMIT = 1000;
/** Deeper pages should follow the `next` cursor: an offset this large already scans that many rows. */
export const MAX_LIST_OFFSET = 100_000;

export const chatRequest = z
  .object({
    question: z
      .string({ message: "question must be a string" })
      .trim()
      .min(1, { message: "question must not be empty" })
      .max(MAX_QUESTION_LENGTH, { message: `question must be at most ${MAX_QUESTION_LENGTH} characters` }),
    thread_id: uuid("thread_id").optional(),
  })
  .strict()
  .meta({ id: "ChatRequest" });

export const chatResponse = z
  .object({
    question: z.string(),
    answer: z.string(),
    question_answer_id: z.string().uuid(),
    thread_id: z.string().uuid(),
  })
  .meta({ id: "ChatResponse" });

const intParam = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${name} must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `${name} must be at least ${min}` })
        .max(max, { message: `${name} must be at most ${max}` }),
    );

const dateTimeParam = (name: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${name} must be an ISO-8601 date-time, e.g. 2026-01-31T00:00:00Z` })
    .transform((value) => new Date(value));

const createdRange = {
  created_after: dateTimeParam("created_after").optional().meta({ description: "Only threads created at or after" }),
  created_before: dateTimeParam("created_before").optional().meta({ description: "Only threads created before" }),
};

const rangeIsOrdered = (q: { created_after?: Date; created_before?: Date }) =>
  !q.created_after || !q.created_before || q.created_after < q.created_before;
const rangeOrderIssue = { message: "created_after must be before created_before", path: ["created_before"] };

/** The list's filters; exports take the same. */
const threadFilters = {
  category: z
    .union([z.literal("none"), uuid("category")], { message: "category must be a category id or none" })
    .optional()
    .meta({ description: "A category id, or `none` for unlabelled threads" }),
  source: z
    .enum(["user", "classifier"], { message: "source must be user or classifier" })
    .optional()
    .meta({ description: "Only threads labelled by users, or by the classifier" }),
  ...createdRange,
};

export const listThreadsQuery = z
  .object({
    limit: intParam("limit", 1, MAX_LIST_LIMIT).optional().meta({ description: "Page size, default 100" }),
    offset: intParam("offset", 0, MAX_LIST_OFFSET).optional(),
    cursor: z.string().max(200).optional().meta({ description: "Opaque position from a `next` or `previous` link" }),
    ...threadFilters,
  })
  .refine((q) => q.offset === undefined || q.cursor === undefined, {
    message: "Use either offset or cursor, not both",
    path: ["cursor"],
  })
  .refine(rangeIsOrdered, rangeOrderIssue);

export const categoryStatsQuery = z.object(createdRange).refine(rangeIsOrdered, rangeOrderIssue);

export const MAX_CATEGORY_NAME = 100;
export const MAX_CATEGORY_DESCRIPTION = 500;

const categoryName = z
  .string({ message: "name must be a string" })
  .trim()
  .min(1, { message: "name must not be empty" })
  .max(MAX_CATEGORY_NAME, { message: `name must be at most ${MAX_CATEGORY_NAME} characters` });
const categoryDescription = z
  .string({ message: "description must be a string" })
  .trim()
  .max(MAX_CATEGORY_DESCRIPTION, { message: `description must be at most ${MAX_CATEGORY_DESCRIPTION} characters` });

export const createCategoryRequest = z
  .object({ name: categoryName, description: categoryDescription.optional() })
  .strict()
  .meta({ id: "CreateCategoryRequest" });

export const updateCategoryRequest = z
  .object({ name: categoryName.optional(), description: categoryDescription.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.description !== undefined, { message: "Give name or description" })
  .meta({ id: "UpdateCategoryRequest" });

export const category = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string(),
    created_at: z.string().datetime(),
    updated_at: z.string().datetime(),
  })
  .meta({ id: "Category" });

export const categoryList = z.object({ results: z.array(category) }).meta({ id: "CategoryList" });

export const categoryStats = z
  .object({
    created_after: z.string().datetime().nullable(),
    created_before: z.string().datetime().nullable(),
    total: z.number().int(),
    unlabelled: z.number().int(),
    by_source: z.object({ user: z.number().int(), classifier: z.number().int() }),
    categories: z.array(
      z.object({
        id: z.string().uuid(),
        name: z.string(),
        count: z.number().int(),
        by_source: z.object({ user: z.number().int(), classifier: z.number().int() }),
      }),
    ),
  })
  .meta({ id: "CategoryStats" });

export const updateThreadRequest = z
  .object({
    category_id: uuid("category_id").nullable().meta({
      description: "A category of this project (a user label), or null to hand the thread back to the classifier",
    }),
  })
  .strict()
  .meta({ id: "UpdateThreadRequest" });

export const categoryLabel = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    source: z.enum(["classifier", "user"]),
    assigned_at: z.string().datetime(),
  })
  .meta({ id: "CategoryLabel" });

export const thread = z
  .object({
    id: z.string().uuid(),
    project: z.string().uuid(),
    created_at: z.string().datetime(),
    first_question: z.string(),
    total_questions: z.number().int(),
    category: categoryLabel.nullable(),
  })
  .meta({ id: "Thread" });

export const threadPage = z
  .object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(thread),
  })
  .meta({ id: "ThreadPage" });

export const questionAnswer = z
  .object({
    id: z.string().uuid(),
    question: z.string(),
    answer: z.string(),
    created_at: z.string().datetime(),
  })
  .meta({ id: "QuestionAnswer" });

export const threadDetail = thread.extend({ question_answers: z.array(questionAnswer) }).meta({ id: "ThreadDetail" });

export const errorBody = z
  .object({
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Error" });

export type ChatRequest = z.infer<typeof chatRequest>;
export type ChatResponse = z.infer<typeof chatResponse>;
export type ThreadResource = z.infer<typeof thread>;
export type ThreadDetailResource = z.infer<typeof threadDetail>;
export type ThreadPageResource = z.infer<typeof threadPage>;
export type QuestionAnswerResource = z.infer<typeof questionAnswer>;
export type ListThreadsQuery = z.infer<typeof listThreadsQuery>;
export type CategoryResource = z.infer<typeof category>;
export type CategoryStatsResource = z.infer<typeof categoryStats>;

// Reclassify jobs (the backfill state machine, one project at a time) ---------------------------

export const reclassifyPath = projectPath.extend({ job_id: uuid("job_id") });

export const reclassifyRequest = z
  .object({
    scope: z.enum(BACKFILL_SCOPES, { message: "scope must be unlabelled or classifier" }).meta({
      description:
        "`unlabelled`: label the threads that have no label. `classifier`: also label again every thread the classifier labelled before now. User labels are never touched.",
    }),
  })
  .strict()
  .meta({ id: "ReclassifyRequest" });

export const reclassifyJob = z
  .object({
    id: z.string().uuid(),
    project: z.string().uuid(),
    scope: z.enum(BACKFILL_SCOPES),
    status: z.enum(["enqueueing", "labelling", "done", "failed"]).meta({
      description:
        "`enqueueing`: the project's threads are being queued for the classifier; `labelling`: all are queued and the classifier works through them at its capped rate; `done`; `failed`: start a new job, it only does what is left",
    }),
    started_at: z.string().datetime(),
    enqueued_at: z.string().datetime().nullable().meta({ description: "When every thread was queued" }),
    classified_before: z
      .string()
      .datetime()
      .meta({ description: "Scope classifier: labels the classifier wrote before this are done again" }),
    enqueued: z.number().int().nullable().meta({ description: "Threads queued, once all are" }),
    error: z.string().nullable(),
    progress: z.object({
      total: z.number().int().meta({ description: "The project's threads" }),
      done: z.number().int(),
      pending: z.number().int().meta({ description: "Threads still to be labelled by this job" }),
      percent: z.number(),
    }),
  })
  .meta({ id: "ReclassifyJob" });

export type ReclassifyJobResource = z.infer<typeof reclassifyJob>;

// Exports (shared/exports/) ----------------------------------------------------------------------

export const exportPath = projectPath.extend({ export_id: uuid("export_id") });

export const createExportRequest = z
  .object({
    format: z.enum(["csv", "ndjson"], { message: "format must be csv or ndjson" }).meta({
      description: "`csv`: RFC 4180, a header row, UTF-8. `ndjson`: one thread per line, the list's Thread",
    }),
    include_questions: z
      .boolean({ message: "include_questions must be true or false" })
      .default(false)
      .meta({ description: "Add each thread's questions and answers (CSV: a JSON array in one column)" }),
    ...threadFilters,
  })
  .strict()
  .refine(rangeIsOrdered, rangeOrderIssue)
  .meta({ id: "CreateExportRequest" });

const exportStatus = z.enum(["running", "done", "failed"]).meta({
  description: "`running`, then `done` (download from `url`) or `failed` (start a new export)",
});

export const exportStarted = z.object({ id: z.string().uuid(), status: exportStatus }).meta({ id: "ExportStarted" });

export const exportResource = z
  .object({
    id: z.string().uuid(),
    status: exportStatus,
    format: z.enum(["csv", "ndjson"]),
    include_questions: z.boolean(),
    rows: z.number().int().meta({ description: "Threads written so far; all of them once done" }),
    created_at: z.string().datetime(),
    finished_at: z.string().datetime().nullable(),
    url: z
      .string()
      .nullable()
      .meta({ description: "Once done: a presigned download link, new on every request; null otherwise" }),
    expires_at: z.string().datetime().nullable().meta({ description: "When `url` stops working" }),
  })
  .meta({ id: "Export" });

export type ExportResource = z.infer<typeof exportResource>;
