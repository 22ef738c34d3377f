import type { Context } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { withLambdaContext } from "../shared/platform/logger.js";
import { loadMessageSeal, loadWebhookEnv } from "../shared/webhooks/config.js";
import { DeliveryStore } from "../shared/webhooks/delivery-store.js";
import { dispatchUntil } from "../shared/webhooks/dispatcher.js";
import { DeliveryQueue } from "../shared/webhooks/queue.js";

/** Time kept back from the function's timeout to finish the batch in hand. */
const MARGIN_MS = 5_000;

const deps = handlerRuntime(async (shared) => {
  const env = loadWebhookEnv();
  if (!env.WEBHOOK_QUEUE_URL) throw new Error("WEBHOOK_QUEUE_URL is not set");
  return {
    env,
    store: new DeliveryStore(shared.database.db),
    queue: new DeliveryQueue(shared.sqs, env.WEBHOOK_QUEUE_URL, await loadMessageSeal(env)),
  };
});

/**
 * Run every minute by EventBridge Scheduler: moves the outbox's events to the webhook queue,
 * polling it for the window (about the interval), so an event waits a poll, not a minute.
 */
export const handler = withLambdaContext(
  async (_event: unknown, context?: Context): Promise<{ dispatched: number }> => {
    const { env, store, queue } = await deps();
    const remaining = context?.getRemainingTimeInMillis?.() ?? env.WEBHOOK_DISPATCH_WINDOW_SECONDS * 1000 + MARGIN_MS;
    const window = Math.min(env.WEBHOOK_DISPATCH_WINDOW_SECONDS * 1000, remaining - MARGIN_MS);
    return { dispatched: await dispatchUntil(store, queue, Date.now() + Math.max(0, window)) };
  },
);
