import * as z from "zod";
import { parseEnv } from "../platform/config.js";
import { MessageSeal } from "./message-seal.js";
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
  WEBHOOK_DISPATCH_WINDOW_SECONDS: z.coerce.number().min(0).max(900).default(75),
  /** The Secrets Manager secret whose text is the webhook message key (AWS; message-seal.ts). */
  WEBHOOK_MESSAGE_KEY_SECRET_ARN: z.string().optional(),
  /** The webhook message key's text itself (the local world, tests): no Secrets Manager locally. */
  WEBHOOK_MESSAGE_KEY: z.string().min(32).optional(),
  /** Consecutive failed attempts that disable an endpoint. */
  WEBHOOK_DISABLE_AFTER: z.coerce.number().int().min(1).max(1000).default(DISABLE_AFTER_CONSECUTIVE_FAILURES),
});
export type WebhookEnv = z.output<typeof webhookEnv>;

export function loadWebhookEnv(source: NodeJS.ProcessEnv = process.env): WebhookEnv {
  return parseEnv(webhookEnv, source);
}

/** The seal of the delivery messages: the key from the environment, or read once from Secrets Manager. */
export async function loadMessageSeal(env: WebhookEnv): Promise<MessageSeal> {
  if (env.WEBHOOK_MESSAGE_KEY) return new MessageSeal(env.WEBHOOK_MESSAGE_KEY);
  const secretArn = env.WEBHOOK_MESSAGE_KEY_SECRET_ARN;
  if (!secretArn) throw new Error("WEBHOOK_MESSAGE_KEY_SECRET_ARN is not set");
  // Loaded on the first read, not at module init (a dynamic import esbuild keeps as is).
  const { GetSecretValueCommand, SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return new MessageSeal(out.SecretString ?? "");
  } finally {
    client.destroy();
  }
}

export const urlPolicyOf = (env: WebhookEnv) => ({ allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK === "true" });
