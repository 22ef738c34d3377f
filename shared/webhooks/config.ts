import * as z from "zod";
import { parseEnv } from "../platform/config.js";
import { DISABLE_AFTER_CONSECUTIVE_FAILURES } from "./model.js";

const webhookEnv = z.object({
  /** The webhook queue ((event, endpoint) deliveries): the dispatcher, the recorder and the API's redeliver send to it. */
  WEBHOOK_QUEUE_URL: z.string().optional(),
  /** The attempts' outcomes: the sender sends to it, the recorder consumes it. */
  WEBHOOK_RESULTS_QUEUE_URL: z.string().optional(),
  /** Set by the local world only: loopback endpoints are allowed under `npm start`. */
  WEBHOOK_ALLOW_LOOPBACK: z.enum(["true", "false"]).default("false"),
  /** Multiplies the retry schedule: 1 in AWS; a local setting shortens it for tests. */
  WEBHOOK_RETRY_SCALE: z.coerce.number().min(0).max(1).default(1),
  /** How long one dispatcher invocation polls the outbox (its schedule starts the next). */
  WEBHOOK_DISPATCH_WINDOW_SECONDS: z.coerce.number().min(0).max(900).default(55),
  /** Consecutive failed attempts that disable an endpoint. */
  WEBHOOK_DISABLE_AFTER: z.coerce.number().int().min(1).max(1000).default(DISABLE_AFTER_CONSECUTIVE_FAILURES),
});
export type WebhookEnv = z.output<typeof webhookEnv>;

export function loadWebhookEnv(source: NodeJS.ProcessEnv = process.env): WebhookEnv {
  return parseEnv(webhookEnv, source);
}

export const urlPolicyOf = (env: WebhookEnv) => ({ allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK === "true" });
