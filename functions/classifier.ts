import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { classifyBatch } from "../shared/classification/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { withLambdaContext } from "../shared/platform/logger.js";

/** SQS consumer of the live and backfill queues: classifies a batch in parallel, reports partial failures. */
export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { labels, classifier } = await runtime();
  const failed = await classifyBatch(
    { labels, classifier },
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body, sentAt: Number(r.attributes.SentTimestamp) })),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
});
