import * as z from "zod";
import { BACKFILL_SCOPES } from "../backfill/model.js";
import { hasNul, isStorableDate, STORABLE_DATE_RANGE, wellFormed } from "../db/values.js";
import { DEFAULT_LIST_LIMIT } from "../threads/model.js";
import { intParam } from "./numeric-params.js";
import { reviewPagesByOffset, reviewParams } from "./review-params.js";

/** The zod schemas of the API: request validation, response types and the OpenAPI document. */

export const uuid = (what: string) => z.string().uuid({ message: `${what} must be a UUID` });

/** Examples shown in the OpenAPI document (and Redoc's samples). */
export const EXAMPLE_IDS = {
  project: "3f1c2a9e-5b7d-4c8e-9f0a-1b2c3d4e5f60",
  thread: "8d0e6f3a-2c4b-4a1d-9e7f-6a5b4c3d2e1f",
  questionAnswer: "c2b1a0f9-e8d7-4c6b-a5f4-e3d2c1b0a9f8",
  category: "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
  job: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
} as const;
export const EXAMPLE_TIME = "2026-03-02T09:30:00.000Z";

/** When an editable resource (a category, a webhook endpoint) was created and last changed. */
export const editTimes = { created_at: z.string().datetime(), updated_at: z.string().datetime() };
export const EXAMPLE_EDIT_TIMES = { created_at: EXAMPLE_TIME, updated_at: EXAMPLE_TIME };

/**
 * Project ids are lowercase: API Gateway matches the authorizer's policy (which lists the key's
 * projects as stored, lowercase) against the literal path, so any other spelling is refused.
 */
const LOWERCASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const projectId = z
  .string()
  .regex(LOWERCASE_UUID, { message: "project_id must be a lowercase UUID" })
  .meta({ format: "uuid", example: EXAMPLE_IDS.project });

/** A count or size: a non-negative integer, with a realistic example rather than Number.MIN_SAFE_INTEGER. */
export const count = (example: number, description?: string) =>
  z
    .number()
    .int()
    .nonnegative()
    .meta({ example, ...(description ? { description } : {}) });

export const projectPath = z.object({ project_id: projectId });
export const threadPath = projectPath.extend({ thread_id: uuid("thread_id").meta({ example: EXAMPLE_IDS.thread }) });
export const categoryPath = projectPath.extend({
  category_id: uuid("category_id").meta({ example: EXAMPLE_IDS.category }),
});

// Stored text and dates (issue 12): what Postgres cannot store is a 400, never a 500. --------------

/** Text stored as given: no NUL character; lone surrogates become U+FFFD (stored == answered). */
const storableText = (name: string) =>
  z
    .string({ message: `${name} must be a string` })
    .overwrite(wellFormed)
    .refine((text) => !hasNul(text), { message: `${name} must not contain NUL (\\u0000) characters` });

/** A date-time query parameter Postgres can compare with. */
const storableDate = (name: string) => [isStorableDate, { message: `${name} must be ${STORABLE_DATE_RANGE}` }] as const;

// ------------------------------------------------------------------------------------------------

export const MAX_QUESTION_LENGTH = 8000;
export const MAX_LIST_LIMIT = 1000;
/** Deeper pages should follow the `next` cursor: an offset this large already scans that many rows. */
export const MAX_LIST_OFFSET = 100_000;

export const chatRequest = z
  .object({
    question: storableText("question")
      .trim()
      // A pattern rather than min(1): the document then says that blank (whitespace only) is invalid.
      .regex(/\S/, { message: "question must not be empty" })
      .max(MAX_QUESTION_LENGTH, { message: `question must be at most ${MAX_QUESTION_LENGTH} characters` }),
    thread_id: uuid("thread_id").optional().meta({ description: "Continue this thread (omit to start one)" }),
  })
  .strict()
  .meta({ id: "ChatRequest", example: { question: "How do I create an API key?" } });

export const chatResponse = z
  .object({
    question: z.string(),
    answer: z.string(),
    question_answer_id: z.string().uuid(),
    thread_id: z.string().uuid(),
  })
  .meta({
    id: "ChatResponse",
    example: {
      question: "How do I create an API key?",
      answer: "Open the dashboard, choose Settings, then API keys, and press New key.",
      question_answer_id: EXAMPLE_IDS.questionAnswer,
      thread_id: EXAMPLE_IDS.thread,
    },
  });

/**
 * A query integer: a string on the wire, documented as the integer it stands for (so generated
 * clients take a number) with its bounds and default.
 */

const dateTimeParam = (name: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${name} must be an ISO-8601 date-time, e.g. 2026-01-31T00:00:00Z` })
    .transform((value) => new Date(value))
    .refine(...storableDate(name));

export const createdRange = {
  created_after: dateTimeParam("created_after").optional().meta({ description: "Only threads created at or after" }),
  created_before: dateTimeParam("created_before").optional().meta({ description: "Only threads created before" }),
};

export const rangeIsOrdered = (q: { created_after?: Date; created_before?: Date }) =>
  !q.created_after || !q.created_before || q.created_after < q.created_before;
export const rangeOrderIssue = { message: "created_after must be before created_before", path: ["created_before"] };

/** The list's filters; exports take the same. */
export const threadFilters = {
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
    limit: intParam("limit", 1, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT).optional().meta({ description: "Page size" }),
    offset: intParam("offset", 0, MAX_LIST_OFFSET, 0)
      .optional()
      .meta({ description: "Threads to skip (at most 100000: deeper pages follow `next`)" }),
    cursor: z.string().max(200).optional().meta({ description: "Opaque position from a `next` or `previous` link" }),
    ...threadFilters,
    ...reviewParams,
  })
  .refine((q) => q.offset === undefined || q.cursor === undefined, {
    message: "Use either offset or cursor, not both",
    path: ["cursor"],
  })
  .refine(rangeIsOrdered, rangeOrderIssue)
  .refine(...reviewPagesByOffset);

export const categoryStatsQuery = z.object(createdRange).refine(rangeIsOrdered, rangeOrderIssue);

export const MAX_CATEGORY_NAME = 100;
export const MAX_CATEGORY_DESCRIPTION = 500;

const categoryName = storableText("name")
  .trim()
  .regex(/\S/, { message: "name must not be empty" })
  .max(MAX_CATEGORY_NAME, { message: `name must be at most ${MAX_CATEGORY_NAME} characters` });
const categoryDescription = storableText("description")
  .trim()
  .max(MAX_CATEGORY_DESCRIPTION, { message: `description must be at most ${MAX_CATEGORY_DESCRIPTION} characters` });

export const createCategoryRequest = z
  .object({ name: categoryName, description: categoryDescription.optional() })
  .strict()
  .meta({
    id: "CreateCategoryRequest",
    example: { name: "Billing", description: "Invoices, plans, refunds and payment methods" },
  });

export const updateCategoryRequest = z
  .object({ name: categoryName.optional(), description: categoryDescription.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.description !== undefined, { message: "Give name or description" })
  // The refinement above, in the document's terms.
  .meta({ id: "UpdateCategoryRequest", minProperties: 1, example: { name: "Billing and plans" } });

const categoryExample = {
  id: EXAMPLE_IDS.category,
  name: "Billing",
  description: "Invoices, plans, refunds and payment methods",
  ...EXAMPLE_EDIT_TIMES,
};

export const category = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string(),
    ...editTimes,
  })
  .meta({ id: "Category", example: categoryExample });

export const categoryList = z
  .object({ results: z.array(category) })
  .meta({ id: "CategoryList", example: { results: [categoryExample] } });

const bySource = (user: number, classifier: number) =>
  z.object({ user: count(user, "Labelled by users"), classifier: count(classifier, "Labelled by the classifier") });

export const categoryStats = z
  .object({
    created_after: z.string().datetime().nullable(),
    created_before: z.string().datetime().nullable(),
    total: count(1250, "Threads created in the period"),
    unlabelled: count(130),
    by_source: bySource(240, 880),
    categories: z.array(
      z.object({
        id: z.string().uuid(),
        name: z.string(),
        count: count(410),
        by_source: bySource(60, 350),
      }),
    ),
  })
  .meta({
    id: "CategoryStats",
    example: {
      created_after: "2026-03-01T00:00:00.000Z",
      created_before: null,
      total: 1250,
      unlabelled: 130,
      by_source: { user: 240, classifier: 880 },
      categories: [{ id: EXAMPLE_IDS.category, name: "Billing", count: 410, by_source: { user: 60, classifier: 350 } }],
    },
  });

export const updateThreadRequest = z
  .object({
    category_id: uuid("category_id").nullable().meta({
      description: "A category of this project (a user label), or null to hand the thread back to the classifier",
    }),
  })
  .strict()
  .meta({ id: "UpdateThreadRequest", example: { category_id: EXAMPLE_IDS.category } });

export const categoryLabel = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    source: z.enum(["classifier", "user"]),
    assigned_at: z.string().datetime(),
    confidence: z.number().min(0).max(1).nullable().meta({
      description: "The classifier's estimated probability that its label is right, in [0, 1]; null for a user's label",
    }),
  })
  .meta({ id: "CategoryLabel" });

const threadExample = {
  id: EXAMPLE_IDS.thread,
  project: EXAMPLE_IDS.project,
  created_at: EXAMPLE_TIME,
  first_question: "How do I create an API key?",
  total_questions: 2,
  category: {
    id: EXAMPLE_IDS.category,
    name: "Billing",
    source: "classifier",
    assigned_at: EXAMPLE_TIME,
    confidence: 0.87,
  },
};
const questionAnswerExample = {
  id: EXAMPLE_IDS.questionAnswer,
  question: "How do I create an API key?",
  answer: "Open the dashboard, choose Settings, then API keys, and press New key.",
  created_at: EXAMPLE_TIME,
};

export const thread = z
  .object({
    id: z.string().uuid(),
    project: z.string().uuid(),
    created_at: z.string().datetime(),
    first_question: z.string(),
    total_questions: count(2),
    category: categoryLabel.nullable(),
  })
  .meta({ id: "Thread", example: threadExample });

export const threadPage = z
  .object({
    count: count(1, "Threads matching the filters, on every page"),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(thread),
  })
  .meta({ id: "ThreadPage", example: { count: 1, next: null, previous: null, results: [threadExample] } });

export const questionAnswer = z
  .object({
    id: z.string().uuid(),
    question: z.string(),
    answer: z.string(),
    created_at: z.string().datetime(),
  })
  .meta({ id: "QuestionAnswer", example: questionAnswerExample });

export const threadDetail = thread
  .extend({ question_answers: z.array(questionAnswer) })
  .meta({ id: "ThreadDetail", example: { ...threadExample, question_answers: [questionAnswerExample] } });

export const errorBody = z
  .object({
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    id: z.string().uuid().optional().meta({
      description:
        "On a 409 from POST reclassify/: the id of the job of that scope already running; on a 429 from POST exports/: the project's unfinished export",
    }),
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

export const reclassifyPath = projectPath.extend({ job_id: uuid("job_id").meta({ example: EXAMPLE_IDS.job }) });

export const reclassifyRequest = z
  .object({
    scope: z.enum(BACKFILL_SCOPES, { message: "scope must be unlabelled or classifier" }).meta({
      description:
        "`unlabelled`: label the threads that have no label. `classifier`: also label again every thread the classifier labelled before now. User labels are never touched.",
    }),
  })
  .strict()
  .meta({ id: "ReclassifyRequest", example: { scope: "unlabelled" } });

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
    enqueued: count(130, "Threads queued, once all are").nullable(),
    error: z.string().nullable(),
    progress: z.object({
      total: count(1250, "The project's threads"),
      done: count(1170),
      pending: count(80, "Threads still to be labelled by this job"),
      percent: z.number().min(0).max(100).meta({ example: 93.6 }),
    }),
  })
  .meta({
    id: "ReclassifyJob",
    example: {
      id: EXAMPLE_IDS.job,
      project: EXAMPLE_IDS.project,
      scope: "unlabelled",
      status: "labelling",
      started_at: EXAMPLE_TIME,
      enqueued_at: "2026-03-02T09:30:04.000Z",
      classified_before: EXAMPLE_TIME,
      enqueued: 130,
      error: null,
      progress: { total: 1250, done: 1170, pending: 80, percent: 93.6 },
    },
  });

export type ReclassifyJobResource = z.infer<typeof reclassifyJob>;
