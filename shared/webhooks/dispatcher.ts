import type { WebhookEndpointRow } from "../db/webhook-schema.js";
import type { ClaimedEvent, DeliveryStore } from "./delivery-store.js";
import type { OpenDelivery } from "./model.js";
import type { DeliveryQueue } from "./queue.js";
import { activeSecrets } from "./repository.js";

/** Events one claim takes. */
export const DISPATCH_BATCH = 200;
/** How long a claim is held: a dispatcher that dies mid-way leaves its events to the next after this. */
export const CLAIM_LEASE_SECONDS = 30;
/** The pause between two polls of an empty outbox. */
export const POLL_INTERVAL_MS = 200;

export function deliveryFor(
  event: ClaimedEvent,
  endpoint: WebhookEndpointRow,
  attempt = 1,
  now = new Date(),
): OpenDelivery {
  return {
    eventId: event.id,
    endpointId: endpoint.id,
    projectId: event.projectId,
    attempt,
    url: endpoint.url,
    secrets: activeSecrets(endpoint, now),
    type: event.type,
    occurredAt: event.createdAt.toISOString(),
    data: event.payload,
  };
}

/**
 * Moves one batch of events from the outbox to the webhook queue, one message per subscribed
 * enabled endpoint, then marks them dispatched. A crash between the send and the mark sends them
 * again after the lease: at least once (receivers deduplicate on webhook-id, the event id).
 */
export async function dispatchOnce(
  store: DeliveryStore,
  queue: DeliveryQueue,
  limit = DISPATCH_BATCH,
): Promise<number> {
  const events = await store.claimEvents(limit, CLAIM_LEASE_SECONDS);
  if (events.length === 0) return 0;
  const endpoints = await store.enabledEndpoints(events.map((e) => e.projectId));
  const messages = events.flatMap((event) =>
    endpoints
      .filter((ep) => ep.projectId === event.projectId && ep.events.includes(event.type))
      .map((ep) => deliveryFor(event, ep)),
  );
  await queue.send(messages);
  await store.markDispatched(events.map((e) => e.id));
  return events.length;
}

/**
 * Dispatches until `deadline` (ms since the epoch): a full batch is followed at once by the
 * next, an empty outbox is polled every POLL_INTERVAL_MS. Returns the events dispatched.
 */
export async function dispatchUntil(store: DeliveryStore, queue: DeliveryQueue, deadline: number): Promise<number> {
  let total = 0;
  while (Date.now() < deadline) {
    const n = await dispatchOnce(store, queue);
    total += n;
    if (n < DISPATCH_BATCH) await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return total;
}
