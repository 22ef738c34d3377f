import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSRecord } from "aws-lambda";

/** What a consumer needs of an SQS record (tests pass just these). */
export type QueueRecord = Pick<SQSRecord, "messageId" | "body">;

export interface ConsumeOptions {
  /** Handle the records at once (independent work) or one after the other (each fills the function). */
  inParallel: boolean;
}

/**
 * The one shape of an SQS consumer: Powertools' BatchProcessor hands each record to `handleRecord`;
 * a record whose handling throws is reported as a batch item failure (the event source mapping
 * has ReportBatchItemFailures), so SQS delivers it again and, after maxReceiveCount, dead-letters
 * it; the others are deleted. A batch whose every record failed is answered the same way rather
 * than thrown, so that an invocation error never hides which records failed. A new processor per
 * batch: a processor holds its batch's state, and the local runtime runs invocations concurrently
 * in one process.
 */
export async function consumeRecords<R extends QueueRecord>(
  records: readonly R[],
  handleRecord: (record: R) => Promise<unknown>,
  options: ConsumeOptions,
): Promise<SQSBatchResponse> {
  const { batchItemFailures } = await processPartialResponse(
    { Records: [...records] },
    (record: R) => handleRecord(record),
    new BatchProcessor(EventType.SQS),
    { processInParallel: options.inParallel, throwOnFullBatchFailure: false },
  );
  return { batchItemFailures };
}
