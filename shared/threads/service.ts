import type { ClassificationQueue } from "../classification/queue.js";
import { requestClassification } from "../classification/requests.js";
import {
  decodeHistoryCursor,
  encodeHistoryCursor,
  type LabelChange,
  type LabelHistoryStore,
} from "../labels/history.js";
import { InvalidInputError, NotFoundError } from "../platform/errors.js";
import { putMetric } from "../platform/metrics.js";
import type { RagAgent } from "../rag/agent.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import {
  type ChatAnswer,
  DEFAULT_LIST_LIMIT,
  type PagePosition,
  type ThreadDetail,
  type ThreadFilters,
  type ThreadList,
  type ThreadView,
} from "./model.js";
import type { ThreadsStore } from "./repository.js";

export interface ChatDeps {
  threads: ThreadsStore;
  agent: RagAgent;
  classificationQueue: ClassificationQueue;
}

/**
 * A new thread's request is sent while its answer is being generated, before the thread exists:
 * SQS holds it back this long so that the classifier usually finds the thread stored.
 */
export const NEW_THREAD_CLASSIFICATION_DELAY_SECONDS = 2;
/** How long a stored answer waits for a send still in flight before it is returned anyway. */
export const ENQUEUE_GRACE_AFTER_ANSWER_MS = 200;

/** A timer that does not keep the process alive once the race is over. */
const graceTimer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const threadNotFound = (threadId: string) => new NotFoundError(`Thread ${threadId} not found`);

/**
 * Answers a question and stores it. Nothing is written before the answer exists, and the write
 * is one statement, so a failed LLM call leaves no half-written conversation. A new thread's id
 * is chosen up front and sent to the classifier while the LLM answers, so the send adds no
 * latency; a failed send never fails the chat (the sweeper catches up). Follow-ups send nothing.
 */
export async function chat(
  { threads, agent, classificationQueue }: ChatDeps,
  input: { projectId: string; question: string; threadId?: string },
): Promise<ChatAnswer> {
  const { projectId, question, threadId } = input;
  // Checked before the (expensive) LLM call so a wrong id fails fast and costs nothing.
  if (threadId && !(await threads.exists(projectId, threadId))) throw threadNotFound(threadId);
  const newThreadId = threadId ? undefined : crypto.randomUUID();
  // Started on the event loop's next turn: the LLM call (and, when it answers at once, the
  // thread's write) goes out first, and the SDK's CPU work overlaps their round trips instead of
  // holding them back.
  const sent = newThreadId
    ? nextTurn().then(() =>
        requestClassification(classificationQueue, [{ threadId: newThreadId, projectId, reason: "new-thread" }], {
          delaySeconds: NEW_THREAD_CLASSIFICATION_DELAY_SECONDS,
        }),
      )
    : Promise.resolve(true);
  const answer = await agent.answer(projectId, question);
  const stored = newThreadId
    ? await threads.createThread(projectId, newThreadId, question, answer)
    : await threads.appendAnswer(projectId, threadId as string, question, answer);
  if (!stored) throw threadNotFound(threadId as string);
  // Normally long done; a queue that hangs gets a short grace and no more (the sweeper catches up).
  await Promise.race([sent, graceTimer(ENQUEUE_GRACE_AFTER_ANSWER_MS)]);
  return { question, answer, ...stored };
}

export interface ListThreadsInput {
  projectId: string;
  limit?: number;
  offset?: number;
  cursor?: string;
  filters?: ThreadFilters;
  /** Builds an absolute link to the list with these query parameters. */
  linkTo: (query: Record<string, string>) => string;
}

/** The filters as query parameters, so that `next` and `previous` keep them. */
function filterQuery(filters: ThreadFilters): Record<string, string> {
  const query: Record<string, string> = {};
  if (filters.category) query.category = filters.category;
  if (filters.source) query.source = filters.source;
  if (filters.createdAfter) query.created_after = filters.createdAfter.toISOString();
  if (filters.createdBefore) query.created_before = filters.createdBefore.toISOString();
  if (filters.confidenceBelow !== undefined) query.confidence_below = String(filters.confidenceBelow);
  return query;
}

export async function listThreads(threads: ThreadsStore, input: ListThreadsInput): Promise<ThreadList> {
  const limit = input.limit ?? DEFAULT_LIST_LIMIT;
  const filters = input.filters ?? {};
  const position: PagePosition = input.cursor
    ? { kind: "cursor", cursor: decodeCursor(input.cursor) }
    : { kind: "offset", offset: input.offset ?? 0 };
  const [page, count] = await Promise.all([
    threads.listPage(input.projectId, filters, limit, position),
    threads.count(input.projectId, filters),
  ]);
  const first = page.rows[0];
  const last = page.rows.at(-1);
  const pageLimit = { ...filterQuery(filters), limit: String(limit) };
  const cursorLink = (direction: "next" | "previous", row: ThreadView | undefined) =>
    row
      ? input.linkTo({ ...pageLimit, cursor: encodeCursor({ direction, createdAt: row.createdAt, id: row.id }) })
      : null;

  let next: string | null;
  let previous: string | null;
  if (position.kind === "offset" && input.offset === undefined && filters.confidenceBelow === undefined) {
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
  return { count, next, previous, threads: page.rows };
}

export async function getThread(threads: ThreadsStore, projectId: string, threadId: string): Promise<ThreadDetail> {
  const found = await threads.getWithAnswers(projectId, threadId);
  if (!found) throw threadNotFound(threadId);
  return found;
}

/**
 * A user's label (`categoryId`), or none (`null`): the thread goes back to the classifier, which
 * labels it again. The classifier never replaces a user's label. The category the classifier
 * chose, given again, confirms its label (the source becomes `user`). `actor`: the API key's id,
 * for the label history.
 */
export async function updateThreadLabel(
  deps: { threads: ThreadsStore; classificationQueue: ClassificationQueue },
  projectId: string,
  threadId: string,
  categoryId: string | null,
  actor: string,
): Promise<ThreadView> {
  if (categoryId === null) {
    if (!(await deps.threads.clearLabel(projectId, threadId, actor))) throw threadNotFound(threadId);
    await requestClassification(deps.classificationQueue, [{ threadId, projectId, reason: "relabel" }]);
  } else if (!(await deps.threads.setUserLabel(projectId, threadId, categoryId, actor))) {
    if (!(await deps.threads.exists(projectId, threadId))) throw threadNotFound(threadId);
    throw new InvalidInputError(`category_id ${categoryId} is not a category of this project`, [
      { path: "body.category_id", message: "not a category of this project" },
    ]);
  }
  const thread = await deps.threads.getView(projectId, threadId);
  if (!thread) throw threadNotFound(threadId);
  putMetric("LabelsWritten", 1, "Count", { Source: "user" });
  return thread;
}

export interface LabelHistoryPage {
  changes: LabelChange[];
  limit: number;
  /** The cursor of the next page; null on the last. */
  next: string | null;
}

/** `GET threads/{id}/labels/`: the thread's label changes, oldest first, a page at a time. */
export async function threadLabelHistory(
  history: LabelHistoryStore,
  projectId: string,
  threadId: string,
  page: { limit?: number; cursor?: string },
): Promise<LabelHistoryPage> {
  const limit = page.limit ?? DEFAULT_LIST_LIMIT;
  const after = page.cursor === undefined ? 0 : decodeHistoryCursor(page.cursor);
  if (after === null) throw new InvalidInputError("Invalid cursor: use the next link of a label history page");
  const found = await history.changes(projectId, threadId, after, limit);
  if (!found) throw threadNotFound(threadId);
  const last = found.changes.at(-1);
  return { changes: found.changes, limit, next: found.hasMore && last ? encodeHistoryCursor(last.id) : null };
}
