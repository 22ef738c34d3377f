import { type RouteDef, routeGroup } from "./route.js";
import { projectPath } from "./schemas.js";
import {
  createWebhookRequest,
  deliveriesQuery,
  deliveryPage,
  redeliverPath,
  redeliverResponse,
  updateWebhookRequest,
  WEBHOOKS_DESCRIPTION,
  webhook,
  webhookList,
  webhookPath,
  webhookWithSecret,
} from "./webhook-schemas.js";

const webhookRoute = routeGroup({ tag: "Webhooks", handler: "webhook-api" });

/** The webhook routes of the route table (shared/http/routes.ts); one Lambda, functions/webhook-api.ts, serves them. */
export const webhookRoutes = {
  createWebhook: webhookRoute("createWebhook", "POST /webhooks", {
    summary: "Subscribe an endpoint to label and category events; answers its signing secret (shown only here)",
    description: `Events: \`thread.labelled\` (any label change, by the classifier, a user, or the system when a category is deleted), \`category.created\`, \`category.updated\`, \`category.deleted\`. ${WEBHOOKS_DESCRIPTION} A URL on a private, loopback, link-local, multicast or reserved address (or a name resolving to one) is refused with 400; 409 beyond the cap.`,
    request: { path: projectPath, body: createWebhookRequest },
    success: { status: 201, description: "The endpoint, with its secret", schema: webhookWithSecret },
    errors: [409],
  }),
  listWebhooks: webhookRoute("listWebhooks", "GET /webhooks", {
    summary: "The project's webhook endpoints (never their secrets)",
    request: { path: projectPath },
    success: { status: 200, description: "The endpoints, oldest first", schema: webhookList },
  }),
  getWebhook: webhookRoute("getWebhook", "GET /webhooks/{webhook_id}", {
    summary: "One webhook endpoint; `enabled` false with `disabled_reason` when the service disabled it",
    request: { path: webhookPath },
    success: { status: 200, description: "The endpoint", schema: webhook },
    errors: [404],
  }),
  updateWebhook: webhookRoute("updateWebhook", "PATCH /webhooks/{webhook_id}", {
    summary: "Change an endpoint's url, events, description, or enable/disable it",
    description:
      "Enabling an endpoint the service disabled resets its failure count. A new url is checked as at creation.",
    request: { path: webhookPath, body: updateWebhookRequest },
    success: { status: 200, description: "The endpoint", schema: webhook },
    errors: [404],
  }),
  deleteWebhook: webhookRoute("deleteWebhook", "DELETE /webhooks/{webhook_id}", {
    summary: "Delete an endpoint and its delivery log; answers 204",
    request: { path: webhookPath },
    success: { status: 204, description: "Deleted" },
    errors: [404],
  }),
  rotateWebhookSecret: webhookRoute("rotateWebhookSecret", "POST /webhooks/{webhook_id}/rotate-secret", {
    summary: "Replace the signing secret; the old one keeps signing (a second signature) for 24 h",
    request: { path: webhookPath },
    success: { status: 200, description: "The endpoint, with its new secret", schema: webhookWithSecret },
    errors: [404],
  }),
  listWebhookDeliveries: webhookRoute("listWebhookDeliveries", "GET /webhooks/{webhook_id}/deliveries", {
    summary: "The endpoint's delivery attempts, newest first; follow `next` for older ones",
    request: { path: webhookPath, query: deliveriesQuery },
    success: { status: 200, description: "A page of attempts", schema: deliveryPage },
    errors: [404],
  }),
  redeliverWebhookEvent: webhookRoute(
    "redeliverWebhookEvent",
    "POST /webhooks/{webhook_id}/deliveries/{event_id}/redeliver",
    {
      summary: "Send one of the project's events to the endpoint again (same webhook-id), with a fresh retry schedule",
      request: { path: redeliverPath },
      success: { status: 202, description: "Queued", schema: redeliverResponse },
      errors: [404],
    },
  ),
} as const satisfies Record<string, RouteDef>;
