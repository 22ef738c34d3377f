import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../local/gateway.js";
import { createApiKey, revokeApiKey } from "../../shared/auth/api-keys.js";
import { createExpiredApiKey, createTenant, type Tenant, useTestDb } from "../support/db.js";
import { recordFetchResponse } from "../support/openapi-recorder.js";

const db = useTestDb();
let gateway: Gateway;
let tenant: Tenant;
let other: Tenant;

beforeAll(async () => {
  // No authorizer cache, so a revocation shows at once (API Gateway caches for its TTL).
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
  tenant = await createTenant(db, "gateway");
  other = await createTenant(db, "gateway-other");
});
afterAll(() => gateway.close());

async function call(path: string, init: { method?: string; key?: string; body?: unknown } = {}) {
  const url = `${gateway.url.replace("localhost", "127.0.0.1")}${path}`;
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers: { ...(init.key ? { "X-API-KEY": init.key } : {}), "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  await recordFetchResponse(init.method ?? "GET", url, response);
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("json")
    ? (JSON.parse(text) as Record<string, unknown>)
    : null;
  return { status: response.status, json, text, headers: response.headers };
}

const projectPath = (t: Tenant, rest: string) => `/query/v1/projects/${t.projectId}/${rest}`;

describe("local gateway and authorizer", () => {
  it("answers over HTTP with the same routes as API Gateway, trailing slash optional", async () => {
    const chat = await call(projectPath(tenant, "chat/"), {
      method: "POST",
      key: tenant.apiKey,
      body: { question: "hello" },
    });
    expect(chat.status).toBe(200);
    const threadId = chat.json?.thread_id as string;
    for (const path of ["threads", "threads/", `threads/${threadId}`, `threads/${threadId}/`]) {
      const response = await call(projectPath(tenant, path), { key: tenant.apiKey });
      expect(response.status, path).toBe(200);
    }
    const listed = await call(projectPath(tenant, "threads/"), { key: tenant.apiKey });
    expect(((listed.json?.results ?? []) as { id: string }[]).map((r) => r.id)).toContain(threadId);
  });

  it("returns 401 without a key and the same 403 for every other failure", async () => {
    const missing = await call(projectPath(tenant, "threads/"));
    expect(missing.status).toBe(401);
    expect(missing.json?.detail).toMatch(/X-API-KEY/);

    const expiring = await createExpiredApiKey(db, tenant.projectId);
    const revoked = await createApiKey(db, { name: "revoked", projectIds: [tenant.projectId] });
    await revokeApiKey(db, revoked.id);

    const failures = {
      garbage: "garbage",
      wrongSecret: `${tenant.apiKey.slice(0, -2)}xx`,
      revoked: revoked.key,
      expired: expiring.key,
      otherProjectsKey: other.apiKey,
    };
    for (const [name, key] of Object.entries(failures)) {
      for (const [method, path, body] of [
        ["GET", "threads/", undefined],
        ["POST", "chat", { question: "q" }],
      ] as const) {
        const response = await call(projectPath(tenant, path), { method, key, body });
        expect(response.status, `${name} ${method} ${path}`).toBe(403);
        expect(response.json).toEqual({ detail: "Forbidden" });
      }
    }
  });
});

describe("local gateway: routes, documents and usage plans", () => {
  it("answers unknown routes with 404 and wrong methods with 405, as JSON", async () => {
    const unknown = await call("/nope", { key: tenant.apiKey });
    expect(unknown.status).toBe(404);
    expect(unknown.json?.detail).toBe("Not found");
    const wrongMethod = await call(projectPath(tenant, "chat"), { method: "GET", key: tenant.apiKey });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json?.detail).toMatch(/POST/);
  });

  it("serves the OpenAPI document and a Redoc page whose script is ours", async () => {
    const doc = await call("/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.json?.openapi).toBe("3.1.0");
    expect(Object.keys(doc.json?.paths as object)).toContain("/query/v1/projects/{project_id}/chat");
    // The served document names the server it came from first.
    // The gateway names itself, never after the client's Host header (issue 12).
    expect((doc.json?.servers as { url: string }[] | undefined)?.[0]?.url).toBe(gateway.url);

    const page = await call("/redoc");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.text).toMatch(/<link rel="icon" href="data:image\/svg\+xml,/);
    const script = /<script src="([^"]+)"/.exec(page.text)?.[1];
    const spec = /spec-url="([^"]+)"/.exec(page.text)?.[1];
    const scriptResponse = await call(new URL(script as string, "http://x/redoc").pathname);
    expect(scriptResponse.status).toBe(200);
    expect(scriptResponse.text.length).toBeGreaterThan(100_000);
    expect(scriptResponse.text).not.toContain("cdn.redoc.ly");
    expect(new URL(spec as string, "http://x/redoc").pathname).toBe("/openapi.json");
    const slashPage = await call("/redoc/");
    const slashScript = /<script src="([^"]+)"/.exec(slashPage.text)?.[1];
    expect(new URL(slashScript as string, "http://x/redoc/").pathname).toBe("/redoc/redoc.standalone.js");
  });

  it("throttles a key over its usage plan with 429, and only that key", async () => {
    const limited = await startGateway({
      port: 0,
      authorizerCacheTtlSeconds: 60,
      perKey: { rateLimit: 0.001, burstLimit: 2, dailyQuota: 0 },
    });
    try {
      const get = (t: Tenant) =>
        fetch(`${limited.url.replace("localhost", "127.0.0.1")}${projectPath(t, "threads/")}`, {
          headers: { "X-API-KEY": t.apiKey },
        }).then(async (r) => ({ status: r.status, body: await r.json(), retryAfter: r.headers.get("retry-after") }));
      expect((await get(tenant)).status).toBe(200);
      expect((await get(tenant)).status).toBe(200);
      expect(await get(tenant)).toEqual({ status: 429, body: { detail: "Too many requests" }, retryAfter: "1" });
      expect((await get(other)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
