import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from "aws-lambda";

/** The requests of the local API Gateway (local/gateway.ts): routing, and the events its functions get. */

export const STAGE = "local";
export const API_ID = "local";

/** One method of the API: where it goes and how it is authorized. */
export interface GatewayRoute {
  method: string;
  path: string;
  /** The function that serves it: a functions/ entry in process, or a logical id with `invoke`. */
  target: string;
  operationId: string;
  /** Its REQUEST authorizer: the function, the identity header and the result cache TTL. */
  authorizer: { target: string; header: string; ttlSeconds: number } | null;
  /** The usage plan applies (API Gateway counts only methods that require a key). */
  apiKeyRequired: boolean;
}

export interface CompiledRoute {
  route: GatewayRoute;
  pattern: RegExp;
  params: string[];
}

export function compile(route: GatewayRoute): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      params.push(param[1] as string);
      return "([^/]+)";
    })
    .join("/");
  return { route, pattern: new RegExp(`^${source}/?$`), params };
}

export function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

export function queryMaps(url: URL) {
  if ([...url.searchParams.keys()].length === 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    single[key] = value; // API Gateway keeps the last value
    multi[key] = [...(multi[key] ?? []), value];
  }
  return { single, multi };
}

/** A gateway answer of its own (an error), before or instead of the integration. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const reply = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body,
  headers,
});

export interface MatchedRoute {
  route: GatewayRoute;
  params: string[];
  pathParameters: Record<string, string>;
}

/** The route of a request, or the gateway's 404, 405 or 400 (a path that does not decode). */
export function matchRoute(compiled: CompiledRoute[], pathname: string, method: string): MatchedRoute | Reply {
  const candidates = compiled.map((c) => ({ c, match: c.pattern.exec(pathname) })).filter((m) => m.match !== null);
  if (candidates.length === 0) return reply(404, { detail: "Not found" });
  const found = candidates.find((m) => m.c.route.method === method);
  if (!found?.match) {
    const allowed = candidates.map((m) => m.c.route.method).join(", ");
    return reply(405, { detail: `Method ${method} not allowed here (allowed: ${allowed})` }, { allow: allowed });
  }
  const { route, params } = found.c;
  try {
    const pathParameters = Object.fromEntries(
      params.map((name, i) => [name, decodeURIComponent(found.match?.[i + 1] ?? "")]),
    );
    return { route, params, pathParameters };
  } catch {
    return reply(400, { detail: "Malformed percent-encoding in the path" });
  }
}

/** What the authorizer and the integration see of a request. */
export interface GatewayRequest extends MatchedRoute {
  req: IncomingMessage;
  url: URL;
  method: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: ReturnType<typeof queryMaps>;
  requestId: string;
  methodArn: string;
}

export function gatewayRequest(req: IncomingMessage, url: URL, method: string, matched: MatchedRoute): GatewayRequest {
  const { headers, multiValueHeaders } = headerMaps(req);
  headers["X-Forwarded-Proto"] ??= "http";
  return {
    ...matched,
    req,
    url,
    method,
    headers,
    multiValueHeaders,
    query: queryMaps(url),
    requestId: randomUUID(),
    methodArn: `arn:aws:execute-api:local:000000000000:${API_ID}/${STAGE}/${method}${url.pathname.replace(/\/$/, "")}`,
  };
}

export interface Admitted {
  authorizerContext: Record<string, unknown> | null;
}

export function authorizerEvent(route: GatewayRoute, request: GatewayRequest): APIGatewayRequestAuthorizerEvent {
  return {
    type: "REQUEST",
    methodArn: request.methodArn,
    resource: route.path,
    path: request.url.pathname,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders,
    pathParameters: request.pathParameters,
    queryStringParameters: request.query.single,
    multiValueQueryStringParameters: request.query.multi,
    stageVariables: null,
    requestContext: {} as APIGatewayRequestAuthorizerEvent["requestContext"],
  };
}

/** The REST (v1) proxy event of a request. `domainName`: the gateway's own host, never the client's Host header. */
export function proxyEvent(
  request: GatewayRequest,
  authorizer: Record<string, unknown> | null,
  body: string | null,
  domainName: string,
): APIGatewayProxyEvent {
  const { route, url, method } = request;
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: method,
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders,
    queryStringParameters: request.query.single,
    multiValueQueryStringParameters: request.query.multi,
    pathParameters: request.params.length > 0 ? request.pathParameters : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "000000000000",
      apiId: API_ID,
      authorizer,
      domainName,
      httpMethod: method,
      identity: {
        sourceIp: request.req.socket.remoteAddress ?? "127.0.0.1",
      } as APIGatewayProxyEvent["requestContext"]["identity"],
      path: url.pathname,
      protocol: "HTTP/1.1",
      requestId: request.requestId,
      requestTimeEpoch: Date.now(),
      resourceId: route.operationId,
      resourcePath: route.path,
      stage: STAGE,
    },
  };
}
