import type * as z from "zod";

// The shape of a route of the table (routes.ts) and the builder of its groups: the modules
// that read routes (handler.ts, openapi.ts, the gateway, the CDK construct) need only the shape.

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

/** What a group of routes shares (see routeGroup). */
export interface RouteGroupDefaults {
  tag: string;
  /** The handler of every route of the group, unless a route names its own. */
  handler?: string;
  /** Prepended to each route's path (default PROJECT). */
  prefix?: string;
  /** Default: the API key. */
  auth?: RouteDef["auth"];
}

/** A route's own declaration: the rest comes from its group and its endpoint. */
export type RouteSpec = Omit<RouteDef, "operationId" | "method" | "path" | "handler" | "auth" | "tag" | "errors"> & {
  handler?: string;
  errors?: number[];
};

/**
 * The builder of a group's routes: `group("listThreads", "GET /threads", spec)` is the route
 * `GET ${prefix}/threads` with the group's tag, auth and handler, and no errors but those its
 * declaration implies unless the spec lists more.
 */
export function routeGroup({ tag, handler, prefix = PROJECT, auth = "apiKey" }: RouteGroupDefaults) {
  return <const S extends RouteSpec>(operationId: string, endpoint: `${HttpMethod} /${string}`, spec: S) => {
    const [method, path] = endpoint.split(" ") as [HttpMethod, string];
    const own = spec.handler ?? handler;
    if (!own) throw new Error(`Route ${operationId} names no handler, nor does its group`);
    const errors: number[] = [];
    return {
      operationId,
      method,
      path: `${prefix}${path}`,
      auth,
      tag,
      errors,
      ...spec,
      handler: own,
    } satisfies RouteDef;
  };
}
