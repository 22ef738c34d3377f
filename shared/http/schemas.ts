import { z } from "zod";

/** The zod schemas of the API: request validation, response types and the OpenAPI document. */

const uuid = (what: string) => z.string().uuid({ message: `${what} must be a UUID` });

export const projectPath = z.object({ project_id: uuid("project_id") });
export const threadPath = projectPath.extend({ thread_id: uuid("thread_id") });

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

export const listThreadsQuery = z
  .object({
    limit: intParam("limit", 1, MAX_LIST_LIMIT).optional().meta({ description: "Page size, default 100" }),
    offset: intParam("offset", 0, MAX_LIST_OFFSET).optional(),
    cursor: z.string().max(200).optional().meta({ description: "Opaque position from a `next` or `previous` link" }),
  })
  .refine((q) => q.offset === undefined || q.cursor === undefined, {
    message: "Use either offset or cursor, not both",
    path: ["cursor"],
  });

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
export type ListThreadsQuery = z.infer<typeof listThreadsQuery>;
