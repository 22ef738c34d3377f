import * as z from "zod";
import { type SqsSender, sendMessageBatches } from "../platform/sqs-sender.js";

/**
 * What the classifier is asked: label this thread. `mode` "unlabelled" labels only a thread
 * without a label; "reclassify" may also replace a classifier's label (never a user's).
 */
export const classificationRequest = z.object({
  threadId: z.string().uuid(),
  /**
   * The thread's project: the message's fair-queue group, so one project's backlog does not delay
   * another's labels. Every sender sets it (ClassificationRequest requires it); the classifier
   * reads the project from the thread, so a message of an older sender still parses.
   */
  projectId: z.string().uuid().optional(),
  reason: z.enum(["new-thread", "relabel", "category-deleted", "sweep", "backfill"]),
  mode: z.enum(["unlabelled", "reclassify"]).default("unlabelled"),
  /**
   * The backfill job that sent it (scope classifier: its cutoff). A thread the classifier labelled
   * at or after the cutoff was already re-labelled by this job: a duplicate message (a retried
   * EnqueueRange sends its range again) is skipped without classifying.
   */
  job: z
    .object({ id: z.string().uuid().nullable(), classifiedBefore: z.string().datetime({ offset: true }) })
    .optional(),
  /** The request that caused it (an API request id), for logs from the chat to the label. */
  correlationId: z.string().max(200).optional(),
});
export type ClassificationRequest = z.input<typeof classificationRequest> & { projectId: string };
export type ParsedClassificationRequest = z.output<typeof classificationRequest>;

/** A thread and its project: what a sender needs to address a classification request to its fair-queue group. */
export interface ThreadRef {
  id: string;
  projectId: string;
}

export interface SendOptions {
  /** Hold the messages back this long (SQS DelaySeconds, at most 900). */
  delaySeconds?: number;
}

export interface ClassificationQueue {
  /** Sends every request or throws; partial failures are retried before giving up. */
  send(requests: readonly ClassificationRequest[], options?: SendOptions): Promise<void>;
}

/** SendMessageBatch, ten at a time, resending the entries SQS reports as failed (shared/platform/sqs-sender.ts). */
export class SqsClassificationQueue implements ClassificationQueue {
  constructor(
    private readonly sqs: SqsSender,
    private readonly queueUrl: string,
  ) {}

  send(requests: readonly ClassificationRequest[], options: SendOptions = {}): Promise<void> {
    return sendMessageBatches(
      this.sqs,
      this.queueUrl,
      requests.map((r) => ({ body: JSON.stringify(r), groupId: r.projectId })),
      "classification request",
      options.delaySeconds,
    );
  }
}
