import * as z from "zod";
import { MAX_ENDPOINTS_PER_PROJECT, WEBHOOK_EVENT_TYPES } from "../webhooks/model.js";
import { intParam } from "./numeric-params.js";
import { count, EXAMPLE_EDIT_TIMES, EXAMPLE_TIME, editTimes, projectPath, uuid } from "./schemas.js";

/** The zod schemas of the webhook routes (shared/http/schemas.ts holds the rest). */

const EXAMPLE_WEBHOOK = "7b6a5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";
const EXAMPLE_EVENT = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b";
export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 500;
export const MAX_DELIVERY_PAGE = 100;

export const webhookPath = projectPath.extend({
  webhook_id: uuid("webhook_id").meta({ example: EXAMPLE_WEBHOOK }),
});
export const redeliverPath = webhookPath.extend({
  event_id: uuid("event_id").meta({ example: EXAMPLE_EVENT }),
});

const webhookUrl = z
  .string({ message: "url must be a string" })
  .min(1, { message: "url must not be empty" })
  .max(MAX_WEBHOOK_URL_LENGTH, { message: `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` })
  .meta({
    description:
      "An https:// URL on a public address (loopback http:// only under `npm start`). Private, loopback, link-local, multicast and reserved addresses, and names resolving to them, are refused, at creation and at every delivery; redirects are not followed.",
    example: "https://example.com/hooks/kapa",
  });
const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `events must be among ${WEBHOOK_EVENT_TYPES.join(", ")}` }))
  .min(1, { message: "events must name at least one event type" })
  .max(WEBHOOK_EVENT_TYPES.length)
  .transform((types) => [...new Set(types)])
  .meta({ example: ["thread.labelled"] });
const description = z
  .string({ message: "description must be a string" })
  .max(MAX_WEBHOOK_DESCRIPTION_LENGTH, {
    message: `description must be at most ${MAX_WEBHOOK_DESCRIPTION_LENGTH} characters`,
  })
  .refine((text) => !text.includes("\u0000"), { message: "description must not contain NUL characters" });

export const createWebhookRequest = z
  .object({ url: webhookUrl, events: eventTypes, description: description.optional() })
  .strict()
  .meta({
    id: "CreateWebhookRequest",
    example: { url: "https://example.com/hooks/kapa", events: ["thread.labelled"], description: "CRM sync" },
  });

export const updateWebhookRequest = z
  .object({
    url: webhookUrl.optional(),
    events: eventTypes.optional(),
    description: description.optional(),
    enabled: z.boolean({ message: "enabled must be true or false" }).optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: "Give url, events, description or enabled",
  })
  .meta({ id: "UpdateWebhookRequest", example: { enabled: true } });

const webhookExample = {
  id: EXAMPLE_WEBHOOK,
  url: "https://example.com/hooks/kapa",
  events: ["thread.labelled"],
  description: "CRM sync",
  enabled: true,
  disabled_reason: null,
  consecutive_failures: 0,
  ...EXAMPLE_EDIT_TIMES,
};

export const webhook = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    description: z.string(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().meta({
      description: "Why the service disabled the endpoint (consecutive failures); PATCH enabled=true resumes it",
    }),
    consecutive_failures: count(0, "Failed attempts since the last success"),
    ...editTimes,
  })
  .meta({ id: "Webhook", example: webhookExample });

const secret = z.string().meta({
  description:
    "The signing secret (Standard Webhooks, `whsec_...`): shown only here. Verify deliveries with the `standardwebhooks` library.",
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
});

export const webhookWithSecret = webhook
  .extend({
    secret,
    previous_secret_expires_at: z
      .string()
      .datetime()
      .nullable()
      .meta({ description: "After a rotation: until then deliveries carry a signature by the old secret too" }),
  })
  .meta({
    id: "WebhookWithSecret",
    example: { ...webhookExample, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", previous_secret_expires_at: null },
  });

export const webhookList = z
  .object({ results: z.array(webhook) })
  .meta({ id: "WebhookList", example: { results: [webhookExample] } });

const DEFAULT_DELIVERY_PAGE = 50;

export const deliveriesQuery = z.object({
  limit: intParam("limit", 1, MAX_DELIVERY_PAGE, DEFAULT_DELIVERY_PAGE).default(DEFAULT_DELIVERY_PAGE),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, { message: "cursor must be the `next` link's cursor" })
    .optional()
    .meta({ description: "From the previous page's `next` link" }),
});

const attemptExample = {
  event_id: EXAMPLE_EVENT,
  type: "thread.labelled",
  attempt: 1,
  status_code: 200,
  error: null,
  duration_ms: 84,
  outcome: "succeeded",
  created_at: EXAMPLE_TIME,
};

export const deliveryAttempt = z
  .object({
    event_id: z.string().uuid().meta({ description: "The event: the `webhook-id` header of its deliveries" }),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    attempt: count(1, "1 for the first attempt, then each retry"),
    status_code: z
      .number()
      .int()
      .min(100)
      .max(599)
      .nullable()
      .meta({ description: "The endpoint's HTTP status; null if none" }),
    error: z
      .string()
      .nullable()
      .meta({ description: "Why the attempt failed without a 2xx (timeout, refused address, ...)" }),
    duration_ms: count(84),
    outcome: z.enum(["succeeded", "retrying", "failed"]),
    created_at: z.string().datetime(),
  })
  .meta({ id: "WebhookDeliveryAttempt", example: attemptExample });

export const deliveryPage = z
  .object({ next: z.string().nullable(), results: z.array(deliveryAttempt) })
  .meta({ id: "WebhookDeliveryPage", example: { next: null, results: [attemptExample] } });

export const redeliverResponse = z
  .object({ event_id: z.string().uuid(), queued: z.literal(true) })
  .meta({ id: "WebhookRedelivery", example: { event_id: EXAMPLE_EVENT, queued: true } });

export const WEBHOOKS_DESCRIPTION = `At most ${MAX_ENDPOINTS_PER_PROJECT} endpoints a project. Deliveries follow Standard Webhooks: headers \`webhook-id\` (the event id, the same on every retry: deduplicate on it), \`webhook-timestamp\` and \`webhook-signature\`; the body is \`{"type", "timestamp", "data"}\`. A 2xx within 5 s is success; anything else is retried with backoff for about a day.`;
