import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";
import { toAttemptResource, toWebhookResource, toWebhookWithSecret } from "../shared/http/webhook-response-mappers.js";
import { loadMessageSeal, loadWebhookEnv, urlPolicyOf } from "../shared/webhooks/config.js";
import { DeliveryQueue } from "../shared/webhooks/queue.js";
import { WebhookEndpointsRepository } from "../shared/webhooks/repository.js";
import {
  createEndpoint,
  listAttempts,
  redeliver,
  rotateSecret,
  updateEndpoint,
  type WebhookDeps,
} from "../shared/webhooks/service.js";

const deps = handlerRuntime(async (shared): Promise<WebhookDeps> => {
  const env = loadWebhookEnv();
  return {
    endpoints: new WebhookEndpointsRepository(shared.database.db),
    policy: urlPolicyOf(env),
    deliveries: env.WEBHOOK_QUEUE_URL
      ? new DeliveryQueue(shared.sqs, env.WEBHOOK_QUEUE_URL, await loadMessageSeal(env))
      : null,
  };
});

const create = httpHandler(routes.createWebhook, async ({ path, body }) => ({
  status: 201,
  body: toWebhookWithSecret(await createEndpoint(await deps(), path.project_id, body)),
}));

const list = httpHandler(routes.listWebhooks, async ({ path }) => ({
  status: 200,
  body: { results: (await (await deps()).endpoints.list(path.project_id)).map(toWebhookResource) },
}));

const get = httpHandler(routes.getWebhook, async ({ path }) => ({
  status: 200,
  body: toWebhookResource(await (await deps()).endpoints.get(path.project_id, path.webhook_id)),
}));

const update = httpHandler(routes.updateWebhook, async ({ path, body }) => ({
  status: 200,
  body: toWebhookResource(await updateEndpoint(await deps(), path.project_id, path.webhook_id, body)),
}));

const remove = httpHandler(routes.deleteWebhook, async ({ path }) => {
  await (await deps()).endpoints.delete(path.project_id, path.webhook_id);
  return { status: 204 };
});

const rotate = httpHandler(routes.rotateWebhookSecret, async ({ path }) => ({
  status: 200,
  body: toWebhookWithSecret(await rotateSecret(await deps(), path.project_id, path.webhook_id)),
}));

const deliveries = httpHandler(routes.listWebhookDeliveries, async ({ path, query, linkTo }) => {
  const cursor = query.cursor === undefined ? undefined : Number(query.cursor);
  const page = await listAttempts(await deps(), path.project_id, path.webhook_id, query.limit, cursor);
  return {
    status: 200,
    body: {
      next: page.next === null ? null : linkTo({ limit: String(query.limit), cursor: String(page.next) }),
      results: page.attempts.map(toAttemptResource),
    },
  };
});

const redeliverEvent = httpHandler(routes.redeliverWebhookEvent, async ({ path }) => {
  await redeliver(await deps(), path.project_id, path.webhook_id, path.event_id);
  return { status: 202, body: { event_id: path.event_id, queued: true as const } };
});

const byRoute = new Map(
  [
    [routes.createWebhook, create],
    [routes.listWebhooks, list],
    [routes.getWebhook, get],
    [routes.updateWebhook, update],
    [routes.deleteWebhook, remove],
    [routes.rotateWebhookSecret, rotate],
    [routes.listWebhookDeliveries, deliveries],
    [routes.redeliverWebhookEvent, redeliverEvent],
  ].map(([route, fn]) => [`${(route as { method: string }).method} ${(route as { path: string }).path}`, fn]),
);

/** One Lambda serves the webhook routes: the event's resource (the route's path) picks the route. */
export const handler = async (event: APIGatewayProxyEvent, context?: Context) => {
  const route = byRoute.get(`${event.httpMethod} ${event.resource}`) as typeof create | undefined;
  if (!route)
    return { statusCode: 404, headers: { "content-type": "application/json" }, body: '{"detail":"Not found"}' };
  return route(event, context);
};
