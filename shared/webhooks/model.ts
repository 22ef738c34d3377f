import * as z from "zod";

/** The event types an endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  "thread.labelled",
  "category.created",
  "category.updated",
  "category.deleted",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const MAX_ENDPOINTS_PER_PROJECT = 10;
/** How long the secret replaced by a rotation keeps signing deliveries (both signatures are sent). */
export const PREVIOUS_SECRET_TTL_HOURS = 24;
/** Consecutive failed attempts (any event) after which an endpoint is disabled; a success resets the count. */
export const DISABLE_AFTER_CONSECUTIVE_FAILURES = 20;
/** A delivery's whole request (connect, send, answer) is cut after this. */
export const DELIVERY_TIMEOUT_MS = 5_000;
/** Bytes of an endpoint's answer read (and logged as an error excerpt); the rest is dropped. */
export const MAX_RESPONSE_BYTES = 4_096;

/**
 * Seconds after the first attempt's failure at which each retry is due, the Standard Webhooks
 * schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: attempt 8 is about 27.6 h after the event),
 * each with +/-20% jitter. After the last, the delivery is failed.
 */
export const RETRY_DELAYS_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/** SQS's longest DelaySeconds: a longer wait is made of hops (see sender's `forward`). */
export const MAX_SQS_DELAY_SECONDS = 900;

export type LabelSource = "classifier" | "user" | "system";

export interface CategoryRef {
  id: string;
  name: string;
}

/** `data` of a thread.labelled event (the body is `{type, timestamp, data}`). */
export interface ThreadLabelledData {
  thread_id: string;
  category: CategoryRef | null;
  previous_category: CategoryRef | null;
  source: LabelSource;
  /** The API key's id (user), provider/model@version (classifier), the reason (system). */
  actor: string;
  confidence: number | null;
  rationale: string | null;
  labelled_at: string;
}

/** One (event, endpoint) delivery on the webhook queue: what the sender needs, with no database. */
export const deliveryMessage = z.object({
  eventId: z.string().uuid(),
  endpointId: z.string().uuid(),
  projectId: z.string().uuid(),
  attempt: z.number().int().min(1),
  url: z.string(),
  /**
   * Every secret that signs this delivery (the current one, and the previous within its 24 h),
   * sealed under the webhook message key and bound to this message (message-seal.ts).
   */
  sealedSecrets: z.string(),
  type: z.string(),
  /** The event's time (the body's `timestamp`). */
  occurredAt: z.string(),
  data: z.record(z.string(), z.unknown()),
  /** Not to be sent before this time (ISO): a retry longer than SQS's delay hops until then. */
  notBefore: z.string().optional(),
});
export type DeliveryMessage = z.infer<typeof deliveryMessage>;
/** A delivery before its secrets are sealed (made where the database is; sealed on the way to the queue). */
export type OpenDelivery = Omit<DeliveryMessage, "sealedSecrets"> & { secrets: string[] };

/** What the sender reports of one attempt (the results queue): the recorder writes it down. */
export const attemptResult = z.object({
  /** Which delivery: the recorder takes anything else (URL, secrets, payload) from the database. */
  delivery: deliveryMessage.pick({ eventId: true, endpointId: true, projectId: true, attempt: true, type: true }),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int().min(0),
  at: z.string(),
});
export type AttemptResult = z.infer<typeof attemptResult>;

/** The Standard Webhooks body. */
export function deliveryBody(message: Pick<DeliveryMessage, "type" | "occurredAt" | "data">): string {
  return JSON.stringify({ type: message.type, timestamp: message.occurredAt, data: message.data });
}

/** Seconds until attempt `next` (2..MAX_ATTEMPTS) is due, jittered by +/-20% (`random` in [0,1)). */
export function retryDelaySeconds(next: number, random: () => number = Math.random, scale = 1): number {
  const base = RETRY_DELAYS_SECONDS[next - 2];
  if (base === undefined) throw new Error(`no attempt ${next}`);
  const jittered = base * (0.8 + 0.4 * random());
  return Math.max(0, jittered * scale);
}
