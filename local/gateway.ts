import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from "aws-lambda";
import { policyAllows, UNAUTHORIZED } from "../shared/auth/policy.js";
import { AUTHORIZER_FAILURE, retryAfterHeader } from "../shared/http/errors.js";
import type { RouteDef } from "../shared/http/route.js";
import { routeList } from "../shared/http/routes.js";
import { logger } from "../shared/platform/logger.js";
import { accessLog } from "./access-log.js";
import {
  type Admitted,
  authorizerEvent,
  type CompiledRoute,
  compile,
  type GatewayRequest,
  type GatewayRoute,
  gatewayRequest,
  matchRoute,
  proxyEvent,
  type Reply,
  reply,
} from "./gateway-request.js";
import { lambdaContext } from "./lambda-context.js";
import type { LocalWaf, WafRequest } from "./waf.js";

export type { GatewayRoute } from "./gateway-request.js";

/**
 * The local stand-in for API Gateway: AWS WAF's rules first (local/waf.ts), then the same route
 * table, the same REQUEST authorizer with a result cache keyed by X-API-KEY, the usage plan, the
 * stage's throttling, REST (v1) proxy events, and `{"detail"}` bodies for the
 * gateway's own errors.
 */

/** API Gateway's own payload limit; the handlers enforce the API's much smaller one. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Authorizer results kept at most (oldest evicted first): junk keys must not grow the cache without bound. */
const AUTHORIZER_CACHE_ENTRIES = 1000;
/** The route table of shared/http/routes.ts, served in this process (tests and benchmarks). */
function inProcessRoutes(options: GatewayOptions): GatewayRoute[] {
  return routeList.map((route: RouteDef) => ({
    method: route.method,
    path: route.path,
    target: route.handler,
    operationId: route.operationId,
    authorizer:
      route.auth === "apiKey"
        ? { target: "authorizer", header: "X-API-KEY", ttlSeconds: options.authorizerCacheTtlSeconds }
        : null,
    apiKeyRequired: route.auth === "apiKey",
  }));
}

export async function inProcess(target: string, event: unknown): Promise<unknown> {
  const module = (await import(`../functions/${target}.ts`)) as { handler: (e: unknown, c: Context) => unknown };
  return module.handler(event, lambdaContext(target));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY_BYTES) throw new Error("too large");
    chunks.push(chunk as Buffer);
  }
  return chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : null;
}

export interface GatewayOptions {
  port: number;
  host?: string;
  /** The authorizer's cache TTL of the in-process route table (ignored with `routes`). */
  authorizerCacheTtlSeconds: number;
  /** The usage plan's per-key limits (requests per second, burst, per UTC day); 0 turns one off. */
  perKey?: { rateLimit: number; burstLimit: number; dailyQuota: number };
  /** The stage's throttling (rate, burst): over it, 429. */
  throttling?: { rateLimit: number; burstLimit: number } | null;
  /** AWS WAF on the stage (local/waf.ts): evaluated first, before routing and throttling; none when unset. */
  waf?: LocalWaf | null;
  /** The API's methods (the template's, with `invoke`); by default shared/http/routes.ts, run in this process. */
  routes?: readonly GatewayRoute[];
  /** Runs a route's or authorizer's function (a Lambda invocation); by default imports it here. */
  invoke?: (target: string, event: unknown) => Promise<unknown>;
}

/**
 * API Gateway's usage plan, per usage identifier key: a token bucket (rate, burst) and a daily
 * quota that resets at midnight UTC.
 */
export class UsagePlan {
  private readonly buckets = new Map<string, { tokens: number; refilledAt: number; day: string; used: number }>();

  constructor(private readonly limits: NonNullable<GatewayOptions["perKey"]>) {}

  /** Takes one request from the key's allowance; false when it is throttled or over its quota. */
  take(key: string, now = Date.now()): boolean {
    const day = new Date(now).toISOString().slice(0, 10);
    const bucket = this.buckets.get(key) ?? { tokens: this.limits.burstLimit, refilledAt: now, day, used: 0 };
    if (bucket.day !== day) Object.assign(bucket, { day, used: 0 });
    bucket.tokens = Math.min(
      this.limits.burstLimit,
      bucket.tokens + ((now - bucket.refilledAt) / 1000) * this.limits.rateLimit,
    );
    bucket.refilledAt = now;
    this.buckets.set(key, bucket);
    if (this.limits.dailyQuota > 0 && bucket.used >= this.limits.dailyQuota) return false;
    if (this.limits.rateLimit > 0 && this.limits.burstLimit > 0) {
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
    }
    bucket.used++;
    return true;
  }
}

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

/** API Gateway's request path for one set of options: routing, admission and the integration. */
class GatewayHandler {
  private readonly authCache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();
  private readonly usagePlan: UsagePlan | null;
  private readonly stage: UsagePlan | null;
  private readonly compiled: CompiledRoute[];
  private readonly invoke: NonNullable<GatewayOptions["invoke"]>;
  private readonly waf: LocalWaf | null;
  /** The Host the proxy events carry; known only once the server listens. */
  ownHost = "localhost";

  constructor(options: GatewayOptions) {
    this.usagePlan = options.perKey ? new UsagePlan(options.perKey) : null;
    this.stage = options.throttling ? new UsagePlan({ ...options.throttling, dailyQuota: 0 }) : null;
    this.compiled = (options.routes ?? inProcessRoutes(options)).map(compile);
    this.invoke = options.invoke ?? inProcess;
    this.waf = options.waf ?? null;
  }

  private async authorize(
    authorizer: NonNullable<GatewayRoute["authorizer"]>,
    identity: string,
    event: APIGatewayRequestAuthorizerEvent,
  ) {
    const key = `${authorizer.target}:${identity}`;
    const cached = this.authCache.get(key);
    if (cached && cached.expires > Date.now()) return cached.result;
    const result = (await this.invoke(authorizer.target, event)) as APIGatewayAuthorizerResult;
    if (authorizer.ttlSeconds > 0) {
      this.authCache.delete(key);
      if (this.authCache.size >= AUTHORIZER_CACHE_ENTRIES) {
        this.authCache.delete(this.authCache.keys().next().value as string);
      }
      this.authCache.set(key, { result, expires: Date.now() + authorizer.ttlSeconds * 1000 });
    }
    return result;
  }

  /** The stage's throttle: over it, 429. */
  private stageThrottled(): Reply | null {
    return this.stage && !this.stage.take("stage") ? reply(429, { detail: "Too many requests" }) : null;
  }

  /**
   * API Gateway's checks before the integration: the authorizer, then the throttling in the order
   * AWS documents it (the usage plan's per-client limits first, then the stage's), so a request
   * the authorizer refuses takes no token from the stage (docs/reliability.md cites the page).
   */
  private async admit(route: GatewayRoute, request: GatewayRequest): Promise<Reply | Admitted> {
    if (!route.authorizer) return this.stageThrottled() ?? { authorizerContext: null };
    const { header } = route.authorizer;
    const apiKey = Object.entries(request.headers).find(([name]) => name.toLowerCase() === header.toLowerCase())?.[1];
    if (!apiKey) return reply(401, { detail: `Missing API key (${header} header)` });
    let result: APIGatewayAuthorizerResult;
    try {
      result = await this.authorize(route.authorizer, apiKey, authorizerEvent(route, request));
    } catch (error) {
      if (error instanceof Error && error.message === UNAUTHORIZED) {
        return reply(401, { detail: `Missing API key (${header} header)` });
      }
      logger.error("authorizer failed", { error });
      return reply(AUTHORIZER_FAILURE.statusCode, { detail: AUTHORIZER_FAILURE.detail }, retryAfterHeader());
    }
    if (!policyAllows(result, request.methodArn)) return reply(403, { detail: "Forbidden" });
    if (this.usagePlan && route.apiKeyRequired) {
      // As API Gateway with apiKeySource AUTHORIZER: no usage key, no access; over the plan: 429.
      if (!result.usageIdentifierKey) return reply(403, { detail: "Forbidden" });
      if (!this.usagePlan.take(result.usageIdentifierKey)) {
        return reply(429, { detail: "Too many requests" }, retryAfterHeader());
      }
    }
    const throttled = this.stageThrottled();
    if (throttled) return throttled;
    return { authorizerContext: { ...result.context, principalId: result.principalId } };
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = (req.method ?? "GET").toUpperCase();
    const blocked = this.waf?.inspect(wafRequest(req));
    if (blocked) {
      res.writeHead(blocked.status, { ...blocked.headers, "content-type": blocked.contentType });
      return void res.end(blocked.body);
    }
    const matched = matchRoute(this.compiled, url.pathname, method);
    if ("status" in matched) return send(res, matched.status, matched.body, matched.headers);
    const request = gatewayRequest(req, url, method, matched);
    const admitted = await this.admit(matched.route, request);
    if ("status" in admitted) return send(res, admitted.status, admitted.body, admitted.headers);
    // Read only once the key is accepted, as API Gateway does not run the integration for a denied one.
    let body: string | null;
    try {
      body = await readBody(req);
    } catch {
      return send(res, 413, { detail: "Request body too large" });
    }
    const event = proxyEvent(request, admitted.authorizerContext, body, this.ownHost);
    const result = (await this.invoke(matched.route.target, event)) as APIGatewayProxyResult;
    res.writeHead(result.statusCode, {
      ...result.headers,
      "x-request-id": request.requestId,
    } as Record<string, string>);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body);
  }
}

/** What WAF sees of a request: its headers (names in lower case) and the caller's address. */
function wafRequest(req: IncomingMessage): WafRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return { headers, sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "") };
}

/** An HTTP server that access-logs every request and turns an unexpected failure into a JSON 500. */
function createGatewayServer(handler: GatewayHandler): Server {
  return createServer((req, res) => {
    const started = performance.now();
    res.once("finish", () =>
      accessLog({
        method: req.method ?? "GET",
        path: (req.url ?? "/").split("?")[0] ?? "/",
        status: res.statusCode,
        ms: performance.now() - started,
        requestId: String(res.getHeader("x-request-id") ?? ""),
      }),
    );
    handler.serve(req, res).catch((error: unknown) => {
      logger.error("gateway error", { error });
      if (!res.headersSent) send(res, 500, { detail: "Internal server error" });
      else res.end();
    });
  });
}

/** A request Node cannot parse (an unknown method, a malformed header) still gets a JSON body. */
function answerMalformedRequestsWithJson(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const body = JSON.stringify({ detail: `Bad request (${error.code ?? "malformed HTTP"})` });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const handler = new GatewayHandler(options);
  const server = createGatewayServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  answerMalformedRequestsWithJson(server);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  handler.ownHost = `localhost:${port}`;
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
