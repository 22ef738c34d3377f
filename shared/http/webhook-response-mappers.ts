import type { WebhookAttemptRow, WebhookEndpointRow } from "../db/webhook-schema.js";
import type { WebhookEventType } from "../webhooks/model.js";
import { toEditTimes } from "./response-mappers.js";

export function toWebhookResource(row: WebhookEndpointRow) {
  return {
    id: row.id,
    url: row.url,
    events: row.events as WebhookEventType[],
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    consecutive_failures: row.consecutiveFailures,
    ...toEditTimes(row),
  };
}

/** The endpoint with its secret: only in the answers to a creation and a rotation. */
export function toWebhookWithSecret(row: WebhookEndpointRow) {
  return {
    ...toWebhookResource(row),
    secret: row.secret,
    previous_secret_expires_at: row.previousSecretExpiresAt?.toISOString() ?? null,
  };
}

export function toAttemptResource(row: WebhookAttemptRow) {
  return {
    event_id: row.eventId,
    type: row.eventType as WebhookEventType,
    attempt: row.attempt,
    status_code: row.statusCode,
    error: row.error,
    duration_ms: row.durationMs,
    outcome: row.outcome as "succeeded" | "retrying" | "failed",
    created_at: row.createdAt.toISOString(),
  };
}
