import * as z from "zod";
import { type SqsSender, sendMessageBatches } from "../platform/sqs-sender.js";

/**
 * How the export queue is consumed, in AWS (infra/constructs/exports.ts) and in the local world
 * built from its template: one export per invocation (it may take minutes), two at once (the
 * lowest maxConcurrency AWS accepts; exports are rare and each reads the database hard), and a
 * message that crashed the worker this many times goes to the dead-letter queue.
 */
export const EXPORT_QUEUE_SETTINGS = { batchSize: 1, maxConcurrency: 2, maxReceiveCount: 5 } as const;

/**
 * The worker's Lambda memory: it holds two pages and two 8 MiB parts, far below this, which buys
 * the CPU to encode (Lambda's CPU grows with memory).
 */
export const EXPORT_WORKER_MEMORY_MB = 1024;
/** The worker's Lambda timeout (the most Lambda allows): an export that is not done by then fails. */
export const EXPORT_WORKER_TIMEOUT_SECONDS = 900;
/** The worker stops this long before its timeout, to record the failure and clean up. */
export const EXPORT_DEADLINE_MARGIN_MS = 30_000;
/**
 * A running export whose worker has not reported progress for this long has lost its worker
 * (it reports at least every second while alive): the API shows it as failed.
 */
export const EXPORT_STALE_SECONDS = EXPORT_WORKER_TIMEOUT_SECONDS + 60;
/**
 * The export queue's message retention, and so the longest a queued export can wait: after it the
 * message is gone (delivered, dead-lettered or dropped by SQS), so the export reads failed, stops
 * counting against its project's limit and can no longer be claimed. Waiting less is never a
 * failure. Long enough for a message to wait behind other projects' exports and then use all its
 * receives (MAX_RECEIVE_COUNT x the visibility timeout, 6 x the worker's timeout: 7.5 hours) before
 * it dead-letters; short enough that a dead-lettered export blocks its project for hours, not days.
 */
export const EXPORT_QUEUED_EXPIRY_SECONDS = 12 * 3600;
/**
 * Unfinished (queued or running) exports a project may have at once (EXPORT_MAX_ACTIVE_PER_PROJECT):
 * one, so a project never holds more than one of the two workers and a second project's export
 * always finds one free; a further POST answers 429 (docs/exports.md).
 */
export const DEFAULT_EXPORT_MAX_ACTIVE_PER_PROJECT = 1;
/** Retry-After of that 429: exports of small projects take seconds, of large ones minutes. */
export const EXPORT_BUSY_RETRY_AFTER_SECONDS = 10;
/** Days a finished file is kept (the bucket's lifecycle rule deletes it after that). */
export const EXPORT_RETENTION_DAYS = 7;

/** One message of the export queue: run this export. */
export const exportMessage = z.object({ exportId: z.string().uuid() });
export type ExportMessage = z.infer<typeof exportMessage>;

export interface ExportQueue {
  /** `projectId` is the message's fair-queue group: one project's exports do not hold back another's. */
  send(message: ExportMessage, projectId: string): Promise<void>;
}

export class SqsExportQueue implements ExportQueue {
  constructor(
    private readonly sqs: SqsSender,
    private readonly queueUrl: string,
  ) {}

  send(message: ExportMessage, projectId: string): Promise<void> {
    return sendMessageBatches(
      this.sqs,
      this.queueUrl,
      [{ body: JSON.stringify(message), groupId: projectId }],
      "export job",
    );
  }
}
