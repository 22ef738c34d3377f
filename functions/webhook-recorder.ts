import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { logger, withLambdaContext } from "../shared/platform/logger.js";
import { handlerRuntime } from "../shared/platform/runtime.js";
import { loadMessageSeal, loadWebhookEnv } from "../shared/webhooks/config.js";
import { DeliveryStore } from "../shared/webhooks/delivery-store.js";
import { DeliveryQueue } from "../shared/webhooks/queue.js";
import { type RecorderDeps, recordResult } from "../shared/webhooks/recorder.js";

const deps = handlerRuntime(async (shared): Promise<RecorderDeps> => {
  const env = loadWebhookEnv();
  if (!env.WEBHOOK_QUEUE_URL) throw new Error("WEBHOOK_QUEUE_URL is not set");
  return {
    store: new DeliveryStore(shared.database.db, env.WEBHOOK_DISABLE_AFTER),
    deliveries: new DeliveryQueue(shared.sqs, env.WEBHOOK_QUEUE_URL, await loadMessageSeal(env)),
    retryScale: env.WEBHOOK_RETRY_SCALE,
  };
});

/** SQS consumer of the attempts' outcomes: logs each, counts failures, schedules retries. */
export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const recorder = await deps();
  const settled = await Promise.allSettled(event.Records.map((r) => recordResult(r.body, recorder)));
  const failed = event.Records.filter((_, i) => settled[i]?.status === "rejected");
  for (const s of settled)
    if (s.status === "rejected") logger.error("webhook result not recorded", { error: s.reason });
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
});
