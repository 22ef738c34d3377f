// The webhook tables (shared/webhooks/), beside schema.ts: drizzle-kit reads both (drizzle.config.ts).
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { cascadingRef, createdAt, projects, timestamptz } from "./schema.js";

/**
 * A project's webhook endpoint (shared/webhooks/). `previous_secret` keeps verifying until
 * `previous_secret_expires_at` after a rotation: deliveries are signed with both meanwhile.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: cascadingRef("project_id", () => projects.id),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    events: text("events").array().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    /** Why the service disabled it (consecutive failures); null when enabled or disabled by the user. */
    disabledReason: text("disabled_reason"),
    secret: text("secret").notNull(),
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: timestamptz("previous_secret_expires_at"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("webhook_endpoints_project_idx").on(t.projectId, t.createdAt)],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

/**
 * The outbox: one row per event, written in the statement or transaction of the change that
 * causes it, only for projects with an enabled endpoint subscribed to its type. The dispatcher
 * claims undispatched rows (`claimed_until` is its lease) and marks them dispatched.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: cascadingRef("project_id", () => projects.id),
    type: text("type").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    claimedUntil: timestamptz("claimed_until"),
    dispatchedAt: timestamptz("dispatched_at"),
  },
  (t) => [
    index("webhook_events_pending_idx").on(t.createdAt).where(sql`${t.dispatchedAt} is null`),
    index("webhook_events_project_idx").on(t.projectId, t.createdAt),
  ],
);

export type WebhookEventRow = typeof webhookEvents.$inferSelect;

/** Every delivery attempt of an event to an endpoint: the log GET webhooks/{id}/deliveries/ reads. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    endpointId: cascadingRef("endpoint_id", () => webhookEndpoints.id),
    eventId: cascadingRef("event_id", () => webhookEvents.id),
    eventType: text("event_type").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    /** The attempt's outcome: `succeeded`, `retrying` (another attempt is scheduled) or `failed` (the last). */
    outcome: text("outcome").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_attempts_endpoint_idx").on(t.endpointId, t.id)],
);

export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;
