import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { withLambdaContext } from "../shared/platform/logger.js";
import { LazySqsClient } from "../shared/platform/sqs-sender.js";
import { loadMessageSeal, loadWebhookEnv, urlPolicyOf } from "../shared/webhooks/config.js";
import { DeliveryQueue, sendGrouped } from "../shared/webhooks/queue.js";
import { type SenderDeps, sendBatch } from "../shared/webhooks/sender.js";

let deps: Promise<SenderDeps> | undefined;

/**
 * No database: this function runs outside the VPC (it reaches customers' endpoints); the recorder
 * writes the outcomes down. The message key (read once) opens the messages' sealed secrets.
 */
async function senderDeps(): Promise<SenderDeps> {
  const env = loadWebhookEnv();
  const { WEBHOOK_QUEUE_URL: queueUrl, WEBHOOK_RESULTS_QUEUE_URL: resultsUrl } = env;
  if (!queueUrl || !resultsUrl) throw new Error("WEBHOOK_QUEUE_URL and WEBHOOK_RESULTS_QUEUE_URL must be set");
  const sqs = new LazySqsClient();
  const seal = await loadMessageSeal(env);
  return {
    post: { policy: urlPolicyOf(env) },
    seal,
    deliveries: new DeliveryQueue(sqs, queueUrl, seal),
    results: { send: (messages) => sendGrouped(sqs, resultsUrl, messages) },
  };
}

/** SQS consumer of the webhook queue: one signed POST per (event, endpoint), each on its own. */
export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  deps ??= senderDeps().catch((error: unknown) => {
    deps = undefined; // a failed cold start (the key unreadable) is tried again on the next batch
    throw error;
  });
  return sendBatch(
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
    await deps,
  );
});
