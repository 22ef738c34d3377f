import type * as z from "zod";

// The shape of a route of the table (routes.ts). The route modules (label-routes.ts,
// webhook-routes.ts) build on this module, not on the table, which imports them.

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteRequest {
  path?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

export interface RouteDef {
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource syntax; a trailing slash is optional on every path. */
  path: string;
  /** The Lambda entry point: functions/<handler>.ts. */
  handler: string;
  auth: "apiKey" | "none";
  summary: string;
  /** The operation's longer description in the document (default: the summary). */
  description?: string;
  tag: string;
  request: RouteRequest;
  /** `example`: for a response without a zod schema (the schemas carry their own examples). */
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string; example?: unknown };
  /**
   * Error statuses this route documents besides the ones its declaration implies (see
   * routeStatuses in openapi.ts: 429 always; 400 with a path, query or body; 401, 403 and 503 with
   * an API key; 413 with a body).
   */
  errors: number[];
}

/** The prefix of every project's resources; `project_id` is checked against the key's projects. */
export const PROJECT = "/query/v1/projects/{project_id}";

export function route<const R extends RouteDef>(def: R): R {
  return def;
}
