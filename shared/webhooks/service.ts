import { randomBytes } from "node:crypto";
import type { WebhookAttemptRow, WebhookEndpointRow } from "../db/webhook-schema.js";
import { InvalidInputError, NotFoundError, UnavailableError } from "../platform/errors.js";
import { deliveryFor } from "./dispatcher.js";
import type { DeliveryQueue } from "./queue.js";
import type { EndpointInput, EndpointPatch, WebhookEndpointsRepository } from "./repository.js";
import { checkWebhookUrl, type HostResolver, type UrlPolicy, UrlRefusedError } from "./url-policy.js";

export interface WebhookDeps {
  endpoints: WebhookEndpointsRepository;
  policy: UrlPolicy;
  resolve?: HostResolver;
  /** Null where no webhook queue is configured (redeliver answers 503). */
  deliveries: DeliveryQueue | null;
}

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

async function checkUrl(deps: WebhookDeps, url: string): Promise<void> {
  try {
    await checkWebhookUrl(url, deps.policy, deps.resolve);
  } catch (error) {
    if (!(error instanceof UrlRefusedError)) throw error;
    throw new InvalidInputError(error.message, [{ path: "body.url", message: error.message }]);
  }
}

export async function createEndpoint(deps: WebhookDeps, projectId: string, input: EndpointInput) {
  await checkUrl(deps, input.url);
  return deps.endpoints.create(projectId, input, newSecret());
}

export async function updateEndpoint(deps: WebhookDeps, projectId: string, id: string, patch: EndpointPatch) {
  if (patch.url !== undefined) await checkUrl(deps, patch.url);
  return deps.endpoints.update(projectId, id, patch);
}

export function rotateSecret(deps: WebhookDeps, projectId: string, id: string): Promise<WebhookEndpointRow> {
  return deps.endpoints.rotate(projectId, id, newSecret());
}

export interface AttemptPage {
  attempts: WebhookAttemptRow[];
  /** The cursor of the next page, if there may be one. */
  next: number | null;
}

export async function listAttempts(
  deps: WebhookDeps,
  projectId: string,
  id: string,
  limit: number,
  cursor?: number,
): Promise<AttemptPage> {
  await deps.endpoints.get(projectId, id); // another project's endpoint is a 404
  const attempts = await deps.endpoints.attempts(id, limit + 1, cursor);
  const page = attempts.slice(0, limit);
  return { attempts: page, next: attempts.length > limit ? (page.at(-1)?.id ?? null) : null };
}

/**
 * Sends one of the endpoint's events again, as a first attempt with the same webhook-id. Only an
 * event the endpoint receives: of a type it subscribes to, and not older than the endpoint (a
 * receiver must never get an event it did not ask for, whatever id a caller names).
 */
export async function redeliver(deps: WebhookDeps, projectId: string, id: string, eventId: string): Promise<void> {
  const endpoint = await deps.endpoints.get(projectId, id);
  const event = await deps.endpoints.event(projectId, eventId);
  if (!event) throw new NotFoundError(`Event ${eventId} not found`);
  if (!endpoint.events.includes(event.type) || event.createdAt < endpoint.createdAt)
    throw new NotFoundError(
      `Event ${eventId} is not one this endpoint receives (its type is not subscribed, or it is older than the endpoint)`,
    );
  if (!deps.deliveries) throw new UnavailableError("Webhook deliveries are not configured");
  await deps.deliveries.send([
    deliveryFor(
      { id: event.id, projectId, type: event.type, payload: event.payload, createdAt: event.createdAt },
      endpoint,
    ),
  ]);
}
