import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { withLambdaContext } from "../shared/platform/logger.js";
import { LazySqsClient } from "../shared/platform/sqs-sender.js";
import { loadWebhookEnv, urlPolicyOf } from "../shared/webhooks/config.js";
import { DeliveryQueue, sendGrouped } from "../shared/webhooks/queue.js";
import { type SenderDeps, sendBatch } from "../shared/webhooks/sender.js";

let deps: SenderDeps | undefined;

/** No database: this function runs outside the VPC (it reaches customers' endpoints); the recorder writes the outcomes down. */
function senderDeps(): SenderDeps {
  if (deps) return deps;
  const env = loadWebhookEnv();
  const { WEBHOOK_QUEUE_URL: queueUrl, WEBHOOK_RESULTS_QUEUE_URL: resultsUrl } = env;
  if (!queueUrl || !resultsUrl) throw new Error("WEBHOOK_QUEUE_URL and WEBHOOK_RESULTS_QUEUE_URL must be set");
  const sqs = new LazySqsClient();
  deps = {
    post: { policy: urlPolicyOf(env) },
    deliveries: new DeliveryQueue(sqs, queueUrl),
    results: { send: (messages) => sendGrouped(sqs, resultsUrl, messages) },
  };
  return deps;
}

/** SQS consumer of the webhook queue: one signed POST per (event, endpoint), each on its own. */
export const handler = withLambdaContext(
  async (event: SQSEvent): Promise<SQSBatchResponse> => sendBatch(event.Records, senderDeps()),
);
