import { setTimeout as sleep } from "node:timers/promises";
import { logger } from "../logger.js";
import { putMetric } from "../metrics.js";
import { type CategoryOption, type Classifier, NoCategoriesError } from "./classifier.js";
import { hasUserLabel, type LabelsRepository, type ThreadToClassify } from "./labels.js";
import { classificationRequest, type ParsedClassificationRequest } from "./queue.js";

/** One SQS message as the classifier sees it. */
export interface ClassificationMessage {
  messageId: string;
  body: string;
  /** When SQS first received it (SentTimestamp), in ms. */
  sentAt: number;
}

export interface ClassifyDeps {
  labels: LabelsRepository;
  classifier: Classifier;
  now?: () => number;
  /**
   * Pauses (ms) before looking again for threads not stored yet, before handing their messages
   * back to the queue (which redelivers only after the visibility timeout).
   */
  recheckMissingAfterMs?: readonly number[];
}

const DEFAULT_RECHECKS_MS = [500, 1000, 1500];

/**
 * A new thread's id is sent while its answer is being generated, before the thread is stored.
 * A message for a thread that does not exist is retried while the thread may still appear (the
 * chat request can take up to its timeout); after that the chat failed and nothing is to label.
 */
export const THREAD_APPEARS_WITHIN_MS = 60_000;

type Outcome = "labelled" | "already-labelled" | "user-label" | "no-categories" | "no-thread" | "retry";

async function classifyOne(
  deps: ClassifyDeps,
  request: ParsedClassificationRequest,
  thread: ThreadToClassify | undefined,
  options: readonly CategoryOption[],
  ageMs: number,
): Promise<Outcome> {
  if (!thread) return ageMs < THREAD_APPEARS_WITHIN_MS ? "retry" : "no-thread";
  if (hasUserLabel(thread)) return "user-label";
  if (thread.categoryId !== null && request.mode === "unlabelled") return "already-labelled";
  // Left unlabelled, not retried: the sweeper sends it again once the project has categories.
  if (options.length === 0) return "no-categories";
  const chosen = await deps.classifier.classify(thread.firstQuestion, options);
  if (await deps.labels.writeClassifierLabel(thread.id, chosen.id, request.mode)) return "labelled";
  // Not written: a user labelled it meanwhile, a duplicate delivery won, or the chosen category
  // was deleted (then classify again among the remaining ones, on redelivery).
  const [latest] = (await deps.labels.threadsByIds([thread.id])).values();
  if (!latest) return "no-thread";
  if (hasUserLabel(latest)) return "user-label";
  return latest.categoryId !== null ? "already-labelled" : "retry";
}

/**
 * Classifies a batch in parallel: the threads and every project's categories are loaded with one
 * query each; returns the ids of the messages to redeliver (partial batch failure).
 */
export async function classifyBatch(deps: ClassifyDeps, messages: readonly ClassificationMessage[]): Promise<string[]> {
  const now = deps.now ?? Date.now;
  const parsed = messages.map((message) => {
    try {
      const request = classificationRequest.safeParse(JSON.parse(message.body));
      return { message, request: request.success ? request.data : null };
    } catch {
      return { message, request: null };
    }
  });
  const ids = parsed.flatMap((p) => (p.request ? [p.request.threadId] : []));
  const threads = await deps.labels.threadsByIds(ids);
  for (const pauseMs of deps.recheckMissingAfterMs ?? DEFAULT_RECHECKS_MS) {
    const missing = parsed.filter(
      (p) => p.request && !threads.has(p.request.threadId) && now() - p.message.sentAt < THREAD_APPEARS_WITHIN_MS,
    );
    if (missing.length === 0) break;
    await sleep(pauseMs);
    const found = await deps.labels.threadsByIds(missing.map((p) => p.request?.threadId as string));
    for (const [id, thread] of found) threads.set(id, thread);
  }
  const optionsByProject = await deps.labels.categoriesOf([...new Set([...threads.values()].map((t) => t.projectId))]);

  const failed: string[] = [];
  await Promise.all(
    parsed.map(async ({ message, request }) => {
      if (!request) {
        // Retried, then dead-lettered: a malformed message is a bug to look at, not to drop.
        logger.error("malformed classification request", { messageId: message.messageId });
        failed.push(message.messageId);
        return;
      }
      const thread = threads.get(request.threadId);
      try {
        const outcome = await classifyOne(
          deps,
          request,
          thread,
          thread ? (optionsByProject.get(thread.projectId) ?? []) : [],
          now() - message.sentAt,
        );
        if (outcome === "retry") failed.push(message.messageId);
        if (outcome === "labelled") putMetric("LabelsWritten", 1, "Count", { Source: "classifier" });
        logger.debug("classification", { threadId: request.threadId, outcome, reason: request.reason });
      } catch (error) {
        if (error instanceof NoCategoriesError) return;
        logger.error("classification failed", { threadId: request.threadId, error });
        putMetric("ClassificationErrors", 1);
        failed.push(message.messageId);
      }
    }),
  );
  return failed;
}
