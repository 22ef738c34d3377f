import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../local/gateway.js";
import { categories, projects, threads } from "../../shared/db/schema.js";
import { encodeCursor } from "../../shared/threads/cursor.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { type HttpReply, rawRequest as rawRequestTo, startTestGateway } from "../support/http.js";

/**
 * Client input that once reached Postgres and came back as a 500: each class answers a 4xx JSON
 * `detail` (or works), never a 5xx.
 */
const db = useTestDb();
let gateway: Gateway;
let call: Awaited<ReturnType<typeof startTestGateway>>["call"];
let tenant: Tenant;
let project: string;

beforeAll(async () => {
  ({ gateway, call } = await startTestGateway());
  tenant = await createTenant(db, "bad-input");
  project = `/query/v1/projects/${tenant.projectId}`;
});
afterAll(() => gateway.close());

const send = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call(method, path, { key: tenant.apiKey, body: body === undefined ? undefined : JSON.stringify(body), headers });

const rawRequest = (method: string, path: string, headers: Record<string, string>) =>
  rawRequestTo(gateway.url, method, path, headers);

function expect4xx(reply: HttpReply, status?: number) {
  if (status) expect(reply.status, reply.text).toBe(status);
  expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
  expect(reply.status, reply.text).toBeLessThan(500);
  expect(typeof reply.json?.detail).toBe("string");
}

describe("input Postgres cannot store", () => {
  it("rejects NUL characters in a question, a category name and a description", async () => {
    expect4xx(await send("POST", `${project}/chat`, { question: "a\u0000b" }), 400);
    expect4xx(await send("POST", `${project}/categories/`, { name: "N\u0000" }), 400);
    expect4xx(await send("POST", `${project}/categories/`, { name: "Fine", description: "\u0000" }), 400);
  });

  it("stores and answers the same text for a lone surrogate", async () => {
    const reply = await send("POST", `${project}/chat`, { question: "broken \ud800 pair" });
    expect(reply.status).toBe(200);
    const stored = await send("GET", `${project}/threads/${reply.json?.thread_id}/`);
    expect(stored.json?.first_question).toBe(reply.json?.question);
    expect(reply.json?.question).toBe("broken \ufffd pair");
  });

  it("rejects dates outside years 1..9999 on the list and the stats", async () => {
    for (const date of ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "10000-01-01T00:00:00Z"]) {
      for (const param of ["created_after", "created_before"]) {
        const query = `${param}=${encodeURIComponent(date)}`;
        expect4xx(await send("GET", `${project}/threads/?${query}`), 400);
        expect4xx(await send("GET", `${project}/categories/stats/?${query}`), 400);
      }
    }
    expect((await send("GET", `${project}/threads/?created_after=0001-01-01T00:00:00Z`)).status).toBe(200);
  });

  it("rejects forged cursors whose time is out of range or invalid", async () => {
    const id = crypto.randomUUID();
    const forged = [
      encodeCursor({ direction: "next", createdAt: new Date(-62_167_219_200_000), id }), // year 0
      encodeCursor({ direction: "next", createdAt: new Date(253_402_300_800_000), id }), // year 10000
      Buffer.from(`n|9007199254740991|${id}`).toString("base64url"),
      Buffer.from(`n|-1e20|${id}`).toString("base64url"),
      Buffer.from(`p|NaN|${id}`).toString("base64url"),
    ];
    for (const cursor of forged) expect4xx(await send("GET", `${project}/threads/?cursor=${cursor}`), 400);
  });
});

describe("races", () => {
  it("answers a label PATCHed while its category is deleted with a 4xx, never a 500", async () => {
    const chat = await send("POST", `${project}/chat`, { question: "Which label?" });
    const threadId = chat.json?.thread_id as string;
    const statuses: number[] = [];
    for (let round = 0; round < 25; round++) {
      const created = await send("POST", `${project}/categories/`, { name: `Racing ${round}` });
      const categoryId = created.json?.id as string;
      const replies = await Promise.all([
        send("PATCH", `${project}/threads/${threadId}/`, { category_id: categoryId }),
        send("DELETE", `${project}/categories/${categoryId}/`),
        send("PATCH", `${project}/threads/${threadId}/`, { category_id: categoryId }),
      ]);
      for (const reply of replies) {
        statuses.push(reply.status);
        if (reply.status >= 400) expect4xx(reply);
      }
    }
    expect(statuses.every((s) => s < 500)).toBe(true);
    // Consistent: the thread shows no deleted category, and a category it still points at is one
    // whose deletion the sweeper has yet to finish (deleted, never live).
    const shown = await send("GET", `${project}/threads/${threadId}/`);
    expect(shown.json?.category ?? null).toBeNull();
    const [row] = await db
      .select({ deletedAt: categories.deletedAt })
      .from(threads)
      .innerJoin(categories, eq(categories.id, threads.categoryId))
      .where(eq(threads.id, threadId));
    if (row) expect(row.deletedAt).not.toBeNull();
  });

  it("answers 404 for a project deleted while the authorizer still caches its key", async () => {
    const doomed = await createTenant(db, "doomed");
    const cached = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
    try {
      const base = `${cached.url.replace("localhost", "127.0.0.1")}/query/v1/projects/${doomed.projectId}`;
      const headers = { "X-API-KEY": doomed.apiKey, "content-type": "application/json" };
      expect((await fetch(`${base}/threads/`, { headers })).status).toBe(200);
      await db.delete(projects).where(eq(projects.id, doomed.projectId));
      const chat = await fetch(`${base}/chat`, { method: "POST", headers, body: JSON.stringify({ question: "Hi?" }) });
      const category = await fetch(`${base}/categories/`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "Gone" }),
      });
      for (const reply of [chat, category]) {
        expect([403, 404]).toContain(reply.status);
        expect(typeof ((await reply.json()) as { detail?: unknown }).detail).toBe("string");
      }
    } finally {
      await cached.close();
    }
  });
});

describe("the local gateway", () => {
  it("answers an HTTP method it cannot parse with JSON", async () => {
    const reply = await rawRequest("FROB", `${project}/threads/`, {});
    expect(reply.status).toBe(400);
    expect(reply.type).toBe("application/json");
    expect(typeof (JSON.parse(reply.body) as { detail?: unknown }).detail).toBe("string");
  });

  it("builds pagination links from its own address, never from Host or X-Forwarded-Proto", async () => {
    for (let i = 0; i < 3; i++) await send("POST", `${project}/chat`, { question: `Page ${i}` });
    const reply = await rawRequest("GET", `${project}/threads/?limit=1`, {
      Host: "evil.example",
      "X-Forwarded-Proto": "javascript",
      "X-API-KEY": tenant.apiKey,
    });
    expect(reply.status).toBe(200);
    expect(String((JSON.parse(reply.body) as { next?: unknown }).next)).toMatch(
      new RegExp(`^${gateway.url}/query/v1/`),
    );
  });

  it("refuses a big body with a bad key before reading it", async () => {
    const reply = await call("POST", `${project}/chat`, { key: "kapa_000000000000_nope", body: "x".repeat(5_000_000) });
    expect4xx(reply, 403);
  });
});
