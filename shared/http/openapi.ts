import type * as z from "zod";
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from "zod-openapi";
import type { RouteDef } from "./route.js";
import { routeList } from "./routes.js";
import { errorBody } from "./schemas.js";

type Status = `${1 | 2 | 3 | 4 | 5}${string}`;

const RETRY_AFTER = {
  "Retry-After": {
    description: "Seconds to wait before trying again",
    schema: { type: "integer", minimum: 0, example: 1 },
  },
} as const;

/** Every error status the API answers, with what it means and a sample body. */
const ERRORS: Record<number, { description: string; example: string; retryAfter?: boolean }> = {
  400: {
    description: "Invalid input: a path id, query parameter or body field (each problem is in `errors`)",
    example: "Invalid body.question: question must not be empty",
  },
  401: { description: "Missing X-API-KEY header", example: "Missing API key (X-API-KEY header)" },
  403: {
    description:
      "The key is unknown, revoked or expired, or the path's project is not one of its projects. API Gateway compares the path literally with the key's projects, so a project id that is not a lowercase UUID is refused here too.",
    example: "Forbidden",
  },
  404: { description: "No such resource in this project", example: "Thread not found" },
  409: { description: "Conflicts with the current state", example: "A category named Billing already exists" },
  413: { description: "Request body over 64 KiB", example: "Request body must be at most 65536 bytes" },
  429: {
    description:
      "Over the request rate (per API key: the usage plan's rate, burst and daily quota). Retry after `Retry-After` seconds; the daily quota resets at 00:00 UTC. `POST exports/` also answers 429 while the project has as many exports queued or running as it may (docs/exports.md), with the oldest one's `id`.",
    example: "Too many requests",
    retryAfter: true,
  },
  503: {
    description:
      "A dependency (the database, or the backfill service) is unavailable: retry after `Retry-After` seconds",
    example: "Service temporarily unavailable, please retry",
    retryAfter: true,
  },
};

const TAG_DESCRIPTIONS: Record<string, string> = {
  Chat: "Questions to the project's bot; each conversation is a thread.",
  Threads: "The project's conversations, their questions and answers, and their category labels.",
  Categories:
    "The labels threads are sorted into: by users, or by the classifier. Reclassify jobs label a project's threads again.",
  Analytics: "Category trends over time: threads, questions and labels per day, week or month in a time zone.",
  Projects: "A project's settings: the review threshold of its classifier labels.",
  Exports: "Bulk exports of the project's threads to CSV or NDJSON files, downloaded from a short-lived link.",
  Docs: "This document, its rendering and the reference dashboard. No API key needed.",
};

/**
 * The statuses a route can answer, derived from what it declares (authentication, path, query,
 * body) so that every new route documents them by construction; `route.errors` adds its own.
 */
export function routeStatuses(route: RouteDef): number[] {
  const statuses = new Set<number>([429]);
  const validates = route.request.path || route.request.query || route.request.body;
  if (validates) statuses.add(400);
  if (route.auth === "apiKey") for (const status of [401, 403, 503]) statuses.add(status);
  if (route.request.body) statuses.add(413);
  for (const status of route.errors) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

function errorResponse(status: number): ZodOpenApiResponseObject {
  const error = ERRORS[status] ?? { description: "Error", example: "Error" };
  return {
    description: error.description,
    ...(error.retryAfter ? { headers: RETRY_AFTER } : {}),
    content: { "application/json": { schema: errorBody, example: { detail: error.example } } },
  };
}

function successResponse(route: RouteDef): ZodOpenApiResponseObject {
  const { success } = route;
  // A 204 has no content (RFC 9110 section 15.3.5).
  if (success.status === 204) return { description: success.description };
  const contentType = success.contentType ?? "application/json";
  const schema = success.schema ?? (contentType === "application/json" ? { type: "object" } : { type: "string" });
  return {
    description: success.description,
    content: { [contentType]: { schema, ...(success.example !== undefined ? { example: success.example } : {}) } },
  };
}

function operation(route: RouteDef): ZodOpenApiOperationObject {
  const responses: ZodOpenApiOperationObject["responses"] = {
    [String(route.success.status) as Status]: successResponse(route),
  };
  for (const status of routeStatuses(route)) responses[String(status) as Status] = errorResponse(status);
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description ?? route.summary,
    tags: [route.tag],
    // The documentation routes are public: an empty requirement overrides nothing, it states it.
    security: route.auth === "apiKey" ? [{ apiKey: [] }] : [],
    requestParams: {
      ...(route.request.path ? { path: route.request.path as z.ZodObject } : {}),
      ...(route.request.query ? { query: route.request.query as z.ZodObject } : {}),
    },
    ...(route.request.body
      ? { requestBody: { required: true, content: { "application/json": { schema: route.request.body } } } }
      : {}),
    responses,
  };
}

const SERVERS = [
  {
    url: "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
    description: "A deployment on AWS (the stack's ApiUrl output)",
    variables: {
      apiId: { default: "abc123defg", description: "The REST API's id" },
      region: { default: "eu-west-1" },
      stage: { default: "prod" },
    },
  },
];

/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas. `serverUrl`: the
 * base URL the document was requested from (served documents list their own server first).
 */
export function openApiDocument(serverUrl?: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routeList) {
    const method = route.method.toLowerCase() as "get" | "post" | "patch" | "delete";
    paths[route.path] = { ...paths[route.path], [method]: operation(route) };
  }
  const tags = [...new Set(routeList.map((r) => r.tag))].map((name) => ({
    name,
    description: TAG_DESCRIPTIONS[name] ?? name,
  }));
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "kapa-service API",
      version: "1.0.0",
      description:
        'Multi-tenant RAG chat-bot backend. Authenticate with a project API key in `X-API-KEY` (`npx kapa key create`). Every error body is `{"detail": ...}`; ids are lowercase UUIDs.',
      // Not open source: an SPDX reference to the project's own terms.
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
      contact: { name: "kapa-service maintainers" },
    },
    servers: serverUrl ? [{ url: serverUrl, description: "This server" }, ...SERVERS] : SERVERS,
    tags,
    components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-API-KEY" } } },
    paths,
  });
}
