import type { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { type RouteDef, routeList } from "./routes.js";
import { errorBody } from "./schemas.js";

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (see `errors`)",
  401: "Missing X-API-KEY",
  403: "The key is unknown, revoked, expired or not granted this project",
  404: "Not found in this project",
  409: "Conflict",
  413: "Request body over 64 KiB",
};

const statusKey = (status: number) => String(status) as `${1 | 2 | 3 | 4 | 5}${string}`;

function operation(route: RouteDef): ZodOpenApiOperationObject {
  const errors = route.auth === "apiKey" ? [401, 403, ...route.errors] : route.errors;
  const responses: ZodOpenApiOperationObject["responses"] = {
    [statusKey(route.success.status)]: {
      description: route.success.description,
      ...(route.success.schema
        ? { content: { "application/json": { schema: route.success.schema } } }
        : { content: { [route.success.contentType ?? "application/json"]: {} } }),
    },
  };
  for (const status of errors) {
    responses[statusKey(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error",
      content: { "application/json": { schema: errorBody } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === "apiKey" ? { security: [{ apiKey: [] }] } : {}),
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

/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
export function openApiDocument(serverUrl?: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routeList) {
    const method = route.method.toLowerCase() as "get" | "post" | "patch" | "delete";
    paths[route.path] = { ...paths[route.path], [method]: operation(route) };
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "kapa-service API",
      version: "1.0.0",
      description:
        'Multi-tenant RAG chat-bot backend. Authenticate with a project API key in `X-API-KEY`. Every error body is `{"detail": ...}`.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-API-KEY" } } },
    paths,
  });
}
