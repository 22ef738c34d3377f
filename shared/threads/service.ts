import type { QuestionAnswerRow, ThreadRow } from "../db/schema.js";
import { NotFoundError } from "../errors.js";
import type { ChatResponse, ThreadDetailResource, ThreadPageResource, ThreadResource } from "../http/schemas.js";
import type { RagAgent } from "../rag/agent.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import type { PagePosition, ThreadsRepository } from "./repository.js";

export const DEFAULT_PAGE_SIZE = 100;

export interface ChatDeps {
  threads: ThreadsRepository;
  agent: RagAgent;
}

const threadNotFound = (threadId: string) => new NotFoundError(`Thread ${threadId} not found`);

/**
 * Answers a question and stores it. Nothing is written before the answer exists, and the write
 * is one statement, so a failed LLM call leaves no half-written conversation.
 */
export async function chat(
  { threads, agent }: ChatDeps,
  input: { projectId: string; question: string; threadId?: string },
): Promise<ChatResponse> {
  const { projectId, question, threadId } = input;
  // Checked before the (expensive) LLM call so a wrong id fails fast and costs nothing.
  if (threadId && !(await threads.exists(projectId, threadId))) throw threadNotFound(threadId);
  const answer = await agent.answer(question);
  const stored = threadId
    ? await threads.appendAnswer(projectId, threadId, question, answer)
    : await threads.createThread(projectId, question, answer);
  if (!stored) throw threadNotFound(threadId as string);
  return { question, answer, question_answer_id: stored.questionAnswerId, thread_id: stored.threadId };
}

export function toThreadResource(row: ThreadRow): ThreadResource {
  return {
    id: row.id,
    project: row.projectId,
    created_at: row.createdAt.toISOString(),
    first_question: row.firstQuestion,
    total_questions: row.questionCount,
    category: null,
  };
}

function toQuestionAnswerResource(row: QuestionAnswerRow) {
  return { id: row.id, question: row.question, answer: row.answer, created_at: row.createdAt.toISOString() };
}

export interface ListThreadsInput {
  projectId: string;
  limit?: number;
  offset?: number;
  cursor?: string;
  /** Builds an absolute link to the list with these query parameters. */
  linkTo: (query: Record<string, string>) => string;
}

export async function listThreads(threads: ThreadsRepository, input: ListThreadsInput): Promise<ThreadPageResource> {
  const limit = input.limit ?? DEFAULT_PAGE_SIZE;
  const position: PagePosition = input.cursor
    ? { kind: "cursor", cursor: decodeCursor(input.cursor) }
    : { kind: "offset", offset: input.offset ?? 0 };
  const [page, count] = await Promise.all([
    threads.listPage(input.projectId, limit, position),
    threads.threadCount(input.projectId),
  ]);
  const first = page.rows[0];
  const last = page.rows.at(-1);
  const pageLimit = { limit: String(limit) };
  const cursorLink = (direction: "next" | "previous", row: ThreadRow | undefined) =>
    row
      ? input.linkTo({ ...pageLimit, cursor: encodeCursor({ direction, createdAt: row.createdAt, id: row.id }) })
      : null;

  let next: string | null;
  let previous: string | null;
  if (position.kind === "offset" && input.offset === undefined) {
    // A first page asked without offset links on by cursor: stable under new threads, and cheap at any depth.
    next = page.hasMore ? cursorLink("next", last) : null;
    previous = null;
  } else if (position.kind === "offset") {
    next = page.hasMore ? input.linkTo({ ...pageLimit, offset: String(position.offset + limit) }) : null;
    previous =
      position.offset > 0 ? input.linkTo({ ...pageLimit, offset: String(Math.max(0, position.offset - limit)) }) : null;
  } else if (position.cursor.direction === "next") {
    next = page.hasMore ? cursorLink("next", last) : null;
    // Reached by going forward, so there are rows before this page even when it is empty.
    previous = first ? cursorLink("previous", first) : input.linkTo(pageLimit);
  } else {
    previous = page.hasMore ? cursorLink("previous", first) : null;
    next = last ? cursorLink("next", last) : input.linkTo(pageLimit);
  }
  return { count, next, previous, results: page.rows.map(toThreadResource) };
}

export async function getThread(
  threads: ThreadsRepository,
  projectId: string,
  threadId: string,
): Promise<ThreadDetailResource> {
  const found = await threads.getWithAnswers(projectId, threadId);
  if (!found) throw threadNotFound(threadId);
  return { ...toThreadResource(found.thread), question_answers: found.answers.map(toQuestionAnswerResource) };
}
