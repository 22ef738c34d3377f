import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { withLambdaContext } from "../shared/platform/logger.js";
import { loadMessageSeal, loadWebhookEnv } from "../shared/webhooks/config.js";
import { DeliveryStore } from "../shared/webhooks/delivery-store.js";
import { DeliveryQueue } from "../shared/webhooks/queue.js";
import { type RecorderDeps, recordResults } from "../shared/webhooks/recorder.js";

const deps = handlerRuntime(async (shared): Promise<RecorderDeps> => {
  const env = loadWebhookEnv();
  if (!env.WEBHOOK_QUEUE_URL) throw new Error("WEBHOOK_QUEUE_URL is not set");
  return {
    store: new DeliveryStore(shared.database.db, env.WEBHOOK_DISABLE_AFTER),
    deliveries: new DeliveryQueue(shared.sqs, env.WEBHOOK_QUEUE_URL, await loadMessageSeal(env)),
    retryScale: env.WEBHOOK_RETRY_SCALE,
  };
});

/** SQS consumer of the attempts' outcomes: shared/webhooks/recorder.ts. */
export const handler = withLambdaContext(
  async (event: SQSEvent): Promise<SQSBatchResponse> => recordResults(event.Records, await deps()),
);
