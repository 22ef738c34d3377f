import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { classifyBatch } from "../shared/classification/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { withLambdaContext } from "../shared/platform/logger.js";

/**
 * SQS consumer of the live and backfill queues: classifies a batch in parallel, reports partial
 * failures. Not Powertools' per-record BatchProcessor (shared/platform/sqs-consumer.ts) as the
 * other consumers: the batch is read in one query and its labels written in one statement, and a
 * database outage returns the whole batch at once, which a per-record handler cannot express.
 */
export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { labels, classifier } = await runtime();
  const failed = await classifyBatch(
    { labels, classifier },
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body, sentAt: Number(r.attributes.SentTimestamp) })),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
});
