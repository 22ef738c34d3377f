import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../local/gateway.js";
import { apiEvent, lambdaContext } from "../support/events.js";
import { startTestGateway } from "../support/http.js";

/**
 * The pages the API serves (the dashboard and Redoc) and their assets carry the security headers:
 * in the Lambda's own response (what API Gateway passes on in AWS) and through the local gateway.
 * That the pages still work under their policy is test/e2e/dashboard.test.ts, in Chromium.
 */
type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const PAGES: { handler: "dashboard" | "docs"; path: string; resource: string; csp: RegExp }[] = [
  { handler: "dashboard", path: "/dashboard", resource: "/dashboard", csp: /script-src 'self'(;|$)/ },
  { handler: "dashboard", path: "/dashboard/app.js", resource: "/dashboard/app.js", csp: /default-src 'none'/ },
  { handler: "dashboard", path: "/dashboard/app.css", resource: "/dashboard/app.css", csp: /default-src 'none'/ },
  { handler: "docs", path: "/redoc", resource: "/redoc", csp: /worker-src blob:/ },
  {
    handler: "docs",
    path: "/redoc/redoc.standalone.js",
    resource: "/redoc/redoc.standalone.js",
    csp: /default-src 'none'/,
  },
  { handler: "docs", path: "/openapi.json", resource: "/openapi.json", csp: /default-src 'none'/ },
];

function expectSecurityHeaders(headers: Record<string, string>, csp: RegExp): void {
  expect(headers["content-security-policy"]).toMatch(csp);
  expect(headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
  // Scripts only from the page's own origin: never inline, never eval.
  expect(headers["content-security-policy"]).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");
}

const lower = (headers: APIGatewayProxyResult["headers"]) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));

describe("security headers in the Lambda's response (as API Gateway passes it on)", () => {
  it.each(PAGES)("$path", async ({ handler, path, resource, csp }) => {
    const module = (await import(`../../functions/${handler}.ts`)) as { handler: ProxyHandler };
    const result = await module.handler(apiEvent({ method: "GET", path, resource }), lambdaContext);
    expect(result.statusCode, result.body.slice(0, 200)).toBe(200);
    expectSecurityHeaders(lower(result.headers), csp);
  });
});

describe("security headers through the local gateway", () => {
  let gateway: Gateway;
  let call: Awaited<ReturnType<typeof startTestGateway>>["call"];
  beforeAll(async () => {
    ({ gateway, call } = await startTestGateway());
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it.each(PAGES)("$path", async ({ path, csp }) => {
    const reply = await call("GET", path);
    expect(reply.status, reply.text.slice(0, 200)).toBe(200);
    expectSecurityHeaders(reply.headers, csp);
  });
});
