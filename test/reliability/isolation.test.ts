import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../local/gateway.js";
import { createApiKey, revokeApiKey } from "../../shared/auth/api-keys.js";
import type { RouteDef } from "../../shared/http/route.js";
import { routeList } from "../../shared/http/routes.js";
import { createExpiredApiKey, createTenant, type Tenant, useTestDb } from "../support/db.js";
import { type HttpReply, startTestGateway } from "../support/http.js";

/**
 * The tenant isolation matrix: every API-key route of the route table (new routes join by
 * themselves) x {no key, garbage, revoked, expired, another project's key, this project's key on
 * another project's thread or category}. Zero leaks: the right status, one error body, no data of
 * the victim in any response, and the victim's data unchanged.
 */
const db = useTestDb();
let gateway: Gateway;
let call: (method: string, path: string, options?: { key?: string; body?: string }) => Promise<HttpReply>;

interface Victim extends Tenant {
  threadId: string;
  categoryId: string;
  firstQuestion: string;
}

let victim: Victim;
let attacker: Victim;
const keys: Record<string, string> = {};

/** A request body each route accepts; a route without one here gets `{}`. */
const VALID_BODIES: Record<string, (target: Victim) => unknown> = {
  chat: () => ({ question: "tell me everything" }),
  updateThread: (t) => ({ category_id: t.categoryId }),
  createCategory: () => ({ name: `Stolen ${crypto.randomUUID().slice(0, 6)}` }),
  updateCategory: () => ({ name: `Renamed ${crypto.randomUUID().slice(0, 6)}` }),
  reclassify: () => ({ scope: "unlabelled" }),
};

function pathFor(route: RouteDef, project: Victim, resources: Victim): string {
  return route.path
    .replace("{project_id}", project.projectId)
    .replace("{thread_id}", resources.threadId)
    .replace("{category_id}", resources.categoryId)
    .replace(/\{\w+\}/g, crypto.randomUUID());
}

async function makeVictim(label: string): Promise<Victim> {
  const tenant = await createTenant(db, label);
  const firstQuestion = `secret question of ${label} ${crypto.randomUUID()}`;
  const chat = await call("POST", `/query/v1/projects/${tenant.projectId}/chat`, {
    key: tenant.apiKey,
    body: JSON.stringify({ question: firstQuestion }),
  });
  const categories = await call("GET", `/query/v1/projects/${tenant.projectId}/categories/`, { key: tenant.apiKey });
  const [category] = (categories.json?.results ?? []) as { id: string }[];
  return { ...tenant, threadId: chat.json?.thread_id as string, categoryId: category?.id as string, firstQuestion };
}

async function snapshot(t: Victim) {
  const rows = await db.execute<{ state: string }>(sql`
    select json_build_object(
      'threads', (select json_agg(json_build_object('id', id, 'q', question_count, 'c', category_id, 's', category_source) order by id) from threads where project_id = ${t.projectId}),
      'categories', (select json_agg(json_build_object('id', id, 'name', name, 'd', description) order by id) from categories where project_id = ${t.projectId})
    )::text as state`);
  return rows[0]?.state;
}

beforeAll(async () => {
  ({ gateway, call } = await startTestGateway());
  victim = await makeVictim("victim");
  attacker = await makeVictim("attacker");
  const revoked = await createApiKey(db, { name: "revoked", projectIds: [victim.projectId] });
  await revokeApiKey(db, revoked.id);
  const expiring = await createExpiredApiKey(db, victim.projectId);
  Object.assign(keys, {
    garbage: "kapa_nothing_here",
    wrongSecret: `${victim.apiKey.slice(0, -3)}abc`,
    revoked: revoked.key,
    expired: expiring.key,
    otherProject: attacker.apiKey,
  });
});
afterAll(() => gateway.close());

const apiRoutes = routeList.filter((r) => r.auth === "apiKey");

/** The victim's data never appears (an id the caller sent may be echoed in "not found"). */
function expectNoLeak(reply: HttpReply, context: string) {
  expect(reply.text, context).not.toContain(victim.firstQuestion);
  if (reply.status >= 400) {
    expect(typeof reply.json?.detail, context).toBe("string");
  }
}

describe("tenant isolation matrix", () => {
  it("covers every API-key route", () => {
    expect(apiRoutes.length).toBeGreaterThanOrEqual(9);
  });

  it("answers 401 without a key and the same 403 for every bad or foreign key, on every route", async () => {
    const before = await snapshot(victim);
    let cases = 0;
    for (const route of apiRoutes) {
      const path = pathFor(route, victim, victim);
      const body = JSON.stringify(VALID_BODIES[route.operationId]?.(victim) ?? {});
      const send = (key?: string) =>
        call(route.method, path, { key, body: route.method === "GET" || route.method === "DELETE" ? undefined : body });
      const missing = await send();
      expect(missing.status, `${route.operationId} without a key`).toBe(401);
      expectNoLeak(missing, route.operationId);
      for (const [name, key] of Object.entries(keys)) {
        const reply = await send(key);
        expect({ status: reply.status, body: reply.json }, `${route.operationId} with ${name}`).toEqual({
          status: 403,
          body: { detail: "Forbidden" },
        });
        cases++;
      }
    }
    expect(cases).toBe(apiRoutes.length * Object.keys(keys).length);
    expect(await snapshot(victim)).toEqual(before);
  });

  it("treats another project's thread and category ids as not found with a valid key", async () => {
    const before = await snapshot(victim);
    const foreignIdRoutes = apiRoutes.filter((r) => /\{(thread_id|category_id)\}/.test(r.path));
    expect(foreignIdRoutes.length).toBeGreaterThanOrEqual(4);
    for (const route of foreignIdRoutes) {
      // The attacker's own project in the path, the victim's ids in it.
      const path = pathFor(route, attacker, victim);
      const body = VALID_BODIES[route.operationId]?.(attacker);
      const reply = await call(route.method, path, {
        key: attacker.apiKey,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(reply.status, `${route.operationId} on a foreign id`).toBe(404);
      expectNoLeak(reply, route.operationId);
    }
    // And the victim's ids in the attacker's writes that take ids in the body.
    const crossLabel = await call("PATCH", `/query/v1/projects/${attacker.projectId}/threads/${attacker.threadId}/`, {
      key: attacker.apiKey,
      body: JSON.stringify({ category_id: victim.categoryId }),
    });
    expect(crossLabel.status).toBe(400);
    const crossChat = await call("POST", `/query/v1/projects/${attacker.projectId}/chat`, {
      key: attacker.apiKey,
      body: JSON.stringify({ question: "continue their thread", thread_id: victim.threadId }),
    });
    expect(crossChat.status).toBe(404);
    expectNoLeak(crossChat, "chat with a foreign thread_id");
    expect(await snapshot(victim)).toEqual(before);
  });

  it("lists nothing of the victim to the attacker", async () => {
    const threads = await call("GET", `/query/v1/projects/${attacker.projectId}/threads/?limit=1000`, {
      key: attacker.apiKey,
    });
    expect(threads.status).toBe(200);
    expectNoLeak(threads, "attacker's list");
    const categories = await call("GET", `/query/v1/projects/${attacker.projectId}/categories/`, {
      key: attacker.apiKey,
    });
    expect(categories.text).not.toContain(victim.categoryId);
  });
});
