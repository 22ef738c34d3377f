import { setTimeout as sleep } from "node:timers/promises";
import { classifyDbError } from "../db/errors.js";
import { named } from "../platform/errors.js";
import { logger, withCorrelationId } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import { type CategoryOption, type Classifier, UNNAMED_CLASSIFIER } from "./classifier.js";
import { type ClassifierLabel, hasUserLabel, type ThreadToClassify } from "./model.js";
import { classificationRequest, type ParsedClassificationRequest } from "./queue.js";
import type { LabelsStore } from "./repository.js";

/** One SQS message as the classifier sees it. */
export interface ClassificationMessage {
  messageId: string;
  body: string;
  /** When SQS first received it (SentTimestamp), in ms. */
  sentAt: number;
}

export interface ClassifyDeps {
  labels: LabelsStore;
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

/** A provider answered with a category that is not one of the thread's project: a bug, never written. */
class ForeignLabelError extends named("ForeignLabelError", Error) {
  constructor(categoryId: string) {
    super(`the classifier chose ${categoryId}, not one of the project's categories`);
  }
}

type Outcome = "labelled" | "already-labelled" | "user-label" | "no-categories" | "no-thread" | "retry";

/** What to do with a message before classifying: an outcome, or the categories to choose from. */
function triage(
  request: ParsedClassificationRequest,
  thread: ThreadToClassify | undefined,
  options: readonly CategoryOption[],
  ageMs: number,
): Outcome | ThreadToClassify {
  if (!thread) return ageMs < THREAD_APPEARS_WITHIN_MS ? "retry" : "no-thread";
  if (hasUserLabel(thread)) return "user-label";
  if (thread.categoryId !== null && request.mode === "unlabelled") return "already-labelled";
  if (relabelledSinceCutoff(request, thread)) return "already-labelled";
  // Left unlabelled, not retried: the sweeper sends it again once the project has categories.
  if (options.length === 0) return "no-categories";
  return thread;
}

/** A reclassify job's duplicate: the classifier re-labelled the thread at or after the job's cutoff. */
function relabelledSinceCutoff(request: ParsedClassificationRequest, thread: ThreadToClassify): boolean {
  if (request.mode !== "reclassify" || !request.job || thread.categorySource !== "classifier") return false;
  return thread.classifiedAt !== null && thread.classifiedAt >= new Date(request.job.classifiedBefore);
}

/** A label that did not land: a user's label or a duplicate won (done), or the category is gone (retry). */
function afterLostWrite(latest: ThreadToClassify | undefined): Outcome {
  if (!latest) return "no-thread";
  if (hasUserLabel(latest)) return "user-label";
  return latest.categoryId !== null ? "already-labelled" : "retry";
}

/**
 * Classifies a batch in parallel: the threads and every project's categories are loaded with one
 * query, the projects' label examples with another, the labels written with one; returns the ids of the messages to redeliver (partial batch
 * failure). With the database unavailable, every message goes back to the queue (redelivered after
 * the visibility timeout, dead-lettered after maxReceiveCount) and the failure is logged as such,
 * not as a bug.
 */
export async function classifyBatch(deps: ClassifyDeps, messages: readonly ClassificationMessage[]): Promise<string[]> {
  try {
    return await classifyAll(deps, messages);
  } catch (error) {
    if (!classifyDbError(error)?.retryable) throw error;
    logger.warn("database unavailable: the batch goes back to the queue", { error, messages: messages.length });
    putMetric("ClassificationFailures", messages.length);
    return messages.map((m) => m.messageId);
  }
}

type Parsed = { message: ClassificationMessage; request: ParsedClassificationRequest | null };
type Chosen = ClassifierLabel & { messageId: string };

function parseMessages(messages: readonly ClassificationMessage[]): Parsed[] {
  return messages.map((message) => {
    try {
      const request = classificationRequest.safeParse(JSON.parse(message.body));
      return { message, request: request.success ? request.data : null };
    } catch {
      return { message, request: null };
    }
  });
}

/** The batch's threads and their projects' categories; threads not stored yet are looked for again a few times. */
async function readThreads(deps: ClassifyDeps, parsed: readonly Parsed[], now: () => number) {
  const ids = parsed.flatMap((p) => (p.request ? [p.request.threadId] : []));
  // The messages name their threads' projects: their examples are read beside the threads, not
  // after them (one round trip less per batch). The thread's project is the truth; a project no
  // message named is read afterwards.
  const messageProjects = [...new Set(parsed.flatMap((p) => (p.request?.projectId ? [p.request.projectId] : [])))];
  const early =
    messageProjects.length > 0 ? deps.labels.examplesFor(messageProjects) : Promise.resolve(new Map<string, never>());
  early.catch(() => {});
  const { threads, categories: optionsByProject } = await deps.labels.threadsWithCategories(ids);
  for (const pauseMs of deps.recheckMissingAfterMs ?? DEFAULT_RECHECKS_MS) {
    const missing = parsed.filter(
      (p) => p.request && !threads.has(p.request.threadId) && now() - p.message.sentAt < THREAD_APPEARS_WITHIN_MS,
    );
    if (missing.length === 0) break;
    await sleep(pauseMs);
    const found = await deps.labels.threadsWithCategories(missing.map((p) => p.request?.threadId as string));
    for (const [id, thread] of found.threads) threads.set(id, thread);
    for (const [projectId, options] of found.categories) optionsByProject.set(projectId, options);
  }
  // One bounded query per batch for the examples of every project with categories among it.
  const projectIds = [...optionsByProject].filter(([, options]) => options.length > 0).map(([id]) => id);
  const examplesByProject = new Map(await early);
  const unnamed = projectIds.filter((id) => !messageProjects.includes(id));
  for (const [id, examples] of await deps.labels.examplesFor(unnamed)) examplesByProject.set(id, examples);
  return { threads, optionsByProject, examplesByProject };
}

/** Classifies every message that needs it, in parallel: the labels chosen, and the others' outcomes. */
async function chooseLabels(
  deps: ClassifyDeps,
  parsed: readonly Parsed[],
  found: Awaited<ReturnType<typeof readThreads>>,
  now: () => number,
): Promise<{ chosen: Chosen[]; outcomes: Map<string, Outcome> }> {
  const outcomes = new Map<string, Outcome>();
  const chosen: Chosen[] = [];
  const choose = async ({ message, request }: Parsed) => {
    if (!request) {
      // Retried, then dead-lettered: a malformed message is a bug to look at, not to drop.
      logger.error("malformed classification request", { messageId: message.messageId });
      outcomes.set(message.messageId, "retry");
      return;
    }
    const thread = found.threads.get(request.threadId);
    const options = thread ? (found.optionsByProject.get(thread.projectId) ?? []) : [];
    const next = triage(request, thread, options, now() - message.sentAt);
    if (typeof next === "string") {
      outcomes.set(message.messageId, next);
      return;
    }
    try {
      const examples = found.examplesByProject.get(next.projectId) ?? [];
      const label = await deps.classifier.classify(next.firstQuestion, options, examples);
      if (!options.some((o) => o.id === label.categoryId)) throw new ForeignLabelError(label.categoryId);
      const { mode, job } = request;
      chosen.push({
        messageId: message.messageId,
        threadId: next.id,
        categoryId: label.categoryId,
        confidence: label.confidence,
        rationale: label.rationale,
        actor: label.model ?? UNNAMED_CLASSIFIER,
        mode,
        cutoff: job?.classifiedBefore,
      });
    } catch (error) {
      logger.error("classification failed", { threadId: request.threadId, error });
      outcomes.set(message.messageId, "retry");
    }
  };
  await Promise.all(
    parsed.map((p) => withCorrelationId(p.request?.correlationId ?? p.message.messageId, () => choose(p))),
  );
  return { chosen, outcomes };
}

async function classifyAll(deps: ClassifyDeps, messages: readonly ClassificationMessage[]): Promise<string[]> {
  const now = deps.now ?? Date.now;
  const parsed = parseMessages(messages);
  const found = await readThreads(deps, parsed, now);
  const { chosen, outcomes } = await chooseLabels(deps, parsed, found, now);

  const written = await deps.labels.writeClassifierLabels(chosen);
  const lost = chosen.filter((c) => !written.has(c.threadId));
  const latest = await deps.labels.threadsByIds(lost.map((c) => c.threadId));
  for (const c of chosen) {
    outcomes.set(c.messageId, written.has(c.threadId) ? "labelled" : afterLostWrite(latest.get(c.threadId)));
  }
  const secondsToLabel = chosen
    .filter((c) => written.has(c.threadId))
    .map((c) => (now() - (found.threads.get(c.threadId)?.createdAt.getTime() ?? now())) / 1000);
  return reportOutcomes(parsed, outcomes, secondsToLabel);
}

/** Logs each message's outcome and records the batch's metrics; the ids of the messages to retry. */
function reportOutcomes(parsed: readonly Parsed[], outcomes: Map<string, Outcome>, secondsToLabel: number[]): string[] {
  for (const { message, request } of parsed) {
    withCorrelationId(request?.correlationId ?? message.messageId, () =>
      logger.debug("classification request handled", {
        threadId: request?.threadId,
        reason: request?.reason,
        outcome: outcomes.get(message.messageId),
      }),
    );
  }
  const failed = [...outcomes].filter(([, outcome]) => outcome === "retry").map(([messageId]) => messageId);
  const labelled = [...outcomes.values()].filter((o) => o === "labelled").length;
  putMetric("TimeToLabel", secondsToLabel, "Seconds");
  if (labelled > 0) putMetric("LabelsWritten", labelled, "Count", { Source: "classifier" });
  if (failed.length > 0) putMetric("ClassificationFailures", failed.length);
  return failed;
}
