import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type * as z from "zod";
import { retryRefusedConnection } from "../db/errors.js";
import { loadEnv } from "../platform/config.js";
import { InvalidInputError } from "../platform/errors.js";
import { withCorrelationId, withLambdaContext } from "../platform/logger.js";
import { putMetric } from "../platform/metrics.js";
import { errorReply, ForbiddenError, PayloadTooLargeError, UnauthenticatedError } from "./errors.js";
import type { RouteDef } from "./route.js";

export const MAX_BODY_BYTES = 64 * 1024;

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface AuthContext {
  apiKeyId: string;
  projectIds: string[];
}

export interface HttpRequest<R extends RouteDef> {
  path: Infer<R["request"]["path"]>;
  query: Infer<R["request"]["query"]>;
  body: Infer<R["request"]["body"]>;
  auth: AuthContext | null;
  /** Absolute URL of this request's path with the given query. */
  linkTo(query: Record<string, string>): string;
  event: APIGatewayProxyEvent;
}

export interface HttpReply {
  status: number;
  /** Serialized as JSON unless `contentType` says otherwise (then it must be a string). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

function jsonResult(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

function validationErrors(part: string, error: z.ZodError) {
  return error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

function parsePart<S extends z.ZodType | undefined>(schema: S, part: string, value: unknown): Infer<S> {
  if (!schema) return undefined as Infer<S>;
  const result = schema.safeParse(value);
  if (result.success) return result.data as Infer<S>;
  const errors = validationErrors(part, result.error);
  const first = errors[0];
  throw new InvalidInputError(first ? `Invalid ${first.path}: ${first.message}` : `Invalid ${part}`, errors);
}

function readJsonBody(event: APIGatewayProxyEvent): unknown {
  const raw = event.body;
  if (raw === null || raw === undefined || raw === "") return undefined;
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  // Parsed as JSON whatever the Content-Type says: `curl -d` sends form-urlencoded by default.
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError("Request body is not valid JSON");
  }
}

/** The authorizer's context (API Gateway or the local gateway), checked against the path's project. */
function readAuth(event: APIGatewayProxyEvent, projectId: unknown): AuthContext {
  const context = event.requestContext?.authorizer;
  const apiKeyId = context?.apiKeyId;
  if (typeof apiKeyId !== "string") throw new UnauthenticatedError("Missing API key (X-API-KEY header)");
  const projectIds = String(context?.projectIds ?? "")
    .split(",")
    .filter(Boolean);
  // Defence in depth: the authorizer's policy already limits the key to these projects.
  if (typeof projectId !== "string" || !projectIds.includes(projectId)) {
    throw new ForbiddenError("Forbidden");
  }
  return { apiKeyId, projectIds };
}

/** The configured public base URL (PUBLIC_BASE_URL), read once. */
let configuredBase: string | undefined | null = null;
function publicBaseUrl(): string | undefined {
  configuredBase ??= loadEnv().PUBLIC_BASE_URL?.replace(/\/$/, "");
  return configuredBase;
}

const LOOPBACK = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/**
 * Links to this API are built from the configured public base URL, else from the API's own
 * domain name (API Gateway's, or the local gateway's), never from the client's Host or
 * X-Forwarded-Proto headers. API Gateway serves HTTPS only; the local gateway plain HTTP on loopback.
 */
function linkBuilder(event: APIGatewayProxyEvent) {
  const fullPath = event.requestContext?.path ?? event.path;
  // API Gateway puts the stage in front of the resource path ("/prod/query/...").
  const stagePrefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : "";
  const domain = event.requestContext?.domainName ?? "localhost";
  const base = publicBaseUrl() ?? `${LOOPBACK.test(domain) ? "http" : "https"}://${domain}${stagePrefix}`;
  const path = event.path.endsWith("/") ? event.path : `${event.path}/`;
  return (query: Record<string, string>) => {
    const search = new URLSearchParams(query).toString();
    return `${base}${path}${search ? `?${search}` : ""}`;
  };
}

function toResult(reply: HttpReply): APIGatewayProxyResult {
  if (reply.contentType) {
    return {
      statusCode: reply.status,
      headers: { "content-type": reply.contentType, ...reply.headers },
      body: String(reply.body ?? ""),
    };
  }
  if (reply.body === undefined) return { statusCode: reply.status, headers: { ...reply.headers }, body: "" };
  const result = jsonResult(reply.status, reply.body);
  return { ...result, headers: { ...result.headers, ...reply.headers } };
}

/**
 * The event as the route reads it: header names in lower case, and empty objects for absent path
 * and query parameters (what middy's header and event normalizers did).
 */
function normalized(event: APIGatewayProxyEvent): APIGatewayProxyEvent {
  const headers = event.headers
    ? Object.fromEntries(Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value]))
    : event.headers;
  return {
    ...event,
    headers,
    pathParameters: event.pathParameters ?? {},
    queryStringParameters: event.queryStringParameters ?? {},
    multiValueQueryStringParameters: event.multiValueQueryStringParameters ?? {},
  };
}

/**
 * A Lambda handler for one route: body parsing (size, JSON), zod validation of path, query and
 * body, the authorizer's grant, the route's logic, and the error mapping last, inside the
 * request's correlation id and the invocation's Lambda context (cold_start, function_name).
 */
export function httpHandler<R extends RouteDef>(
  route: R,
  handle: (request: HttpRequest<R>) => Promise<HttpReply>,
): (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult> {
  return withLambdaContext((event: APIGatewayProxyEvent) =>
    withCorrelationId(event.requestContext?.requestId ?? crypto.randomUUID(), () =>
      timed(route, normalized(event), handle),
    ),
  );
}

/** The route's logic, with its latency as a metric per route (chat latency among them). */
async function timed<R extends RouteDef>(
  route: R,
  event: APIGatewayProxyEvent,
  handle: (request: HttpRequest<R>) => Promise<HttpReply>,
): Promise<APIGatewayProxyResult> {
  const started = performance.now();
  try {
    return await retryRefusedConnection(() => run(route, event, handle));
  } catch (error) {
    // Mapped here, inside the request's correlation context, so its log line carries the id.
    const reply = errorReply(error);
    return jsonResult(reply.statusCode, reply.body, reply.headers);
  } finally {
    putMetric("RequestLatency", performance.now() - started, "Milliseconds", { Route: route.operationId });
  }
}

async function run<R extends RouteDef>(
  route: R,
  event: APIGatewayProxyEvent,
  handle: (request: HttpRequest<R>) => Promise<HttpReply>,
): Promise<APIGatewayProxyResult> {
  const rawBody = route.request.body ? readJsonBody(event) : undefined;
  const path = parsePart(route.request.path, "path", event.pathParameters ?? {}) as Infer<R["request"]["path"]>;
  const auth = route.auth === "apiKey" ? readAuth(event, event.pathParameters?.project_id) : null;
  const query = parsePart(route.request.query, "query", event.queryStringParameters ?? {}) as Infer<
    R["request"]["query"]
  >;
  const body = parsePart(route.request.body, "body", rawBody) as Infer<R["request"]["body"]>;
  return toResult(await handle({ path, query, body, auth, linkTo: linkBuilder(event), event }));
}
