import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../local/gateway.js";
import { projects } from "../../shared/db/schema.js";
import { routeList } from "../../shared/http/routes.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { generators, prng } from "../support/fuzz-inputs.js";
import { type HttpReply, rawRequest, startTestGateway } from "../support/http.js";

/**
 * Bad-input fuzzing of every route of the route table, with a valid key so that the requests
 * reach the handlers: random and malformed bodies, path segments, query strings and huge
 * payloads. Zero 5xx; every error is JSON with a `detail`. The seed is printed; FUZZ_SEED replays.
 */
const db = useTestDb();
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS_PER_ROUTE = Number(process.env.FUZZ_REQUESTS_PER_ROUTE ?? 80);

const random = prng(seed);
const { pick, int, unicodeEdge, dateString, cursor, plausibleBody } = generators(random);

const NASTY_STRINGS = [
  "",
  " ",
  "null",
  "undefined",
  "0",
  "-1",
  "1e309",
  "NaN",
  "' OR '1'='1",
  "'; drop table threads; --",
  "<script>alert(1)</script>",
  "%00",
  "\u0000",
  "💥🔥",
  "\uD800",
  "../../etc/passwd",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "x".repeat(5000),
  "{}",
  "[]",
];

function randomString(): string {
  if (random() < 0.2) return unicodeEdge();
  if (random() < 0.5) return pick(NASTY_STRINGS);
  const length = int(40);
  return Array.from({ length }, () => String.fromCharCode(32 + int(0x2ff))).join("");
}

function randomJson(depth = 0): unknown {
  const kind = int(depth > 2 ? 5 : 7);
  switch (kind) {
    case 0:
      return randomString();
    case 1:
      return pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 42]);
    case 2:
      return pick([true, false, null]);
    case 3:
      return crypto.randomUUID();
    case 4:
      return pick(["question", "thread_id", "category_id", "name", "description", "scope"]);
    case 5:
      return Array.from({ length: int(4) }, () => randomJson(depth + 1));
    default: {
      const keys = ["question", "thread_id", "category_id", "name", "description", "scope", "limit", randomString()];
      return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(keys), randomJson(depth + 1)]));
    }
  }
}

function randomBody(): string | undefined {
  const kind = int(10);
  if (kind === 0) return undefined;
  if (kind === 1) return pick(["{", '{"question":', "[1,2", "nul", '"unterminated', "{'single': 'quotes'}", "\u0000"]);
  if (kind === 2) return JSON.stringify({ question: "x".repeat(70 * 1024) }); // over 64 KiB
  if (kind === 3) return "y".repeat(2 * 1024 * 1024); // 2 MiB of junk
  if (kind < 7) return JSON.stringify(plausibleBody());
  return JSON.stringify(randomJson());
}

function randomQuery(): string {
  const keys = ["limit", "offset", "cursor", "category", "source", "created_after", "created_before", randomString()];
  const values = [() => randomString(), () => String(int(2_000_000) - 1000), () => crypto.randomUUID(), () => "none"];
  // Each key mostly gets a value of its own kind (dates, cursors), sometimes any value.
  const typed: Record<string, () => string> = { created_after: dateString, created_before: dateString, cursor };
  const pairs = Array.from({ length: int(5) }, () => {
    const key = pick(keys);
    const value = typed[key] && random() < 0.8 ? typed[key] : pick(values);
    return [key, value()];
  });
  return pairs.length ? `?${pairs.map(([k, v]) => `${encode(k ?? "")}=${encode(v ?? "")}`).join("&")}` : "";
}

/** Percent-encodes, and turns what cannot be encoded (a lone surrogate) into invalid UTF-8 escapes. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return "%ED%A0%80%";
  }
}

let gateway: Gateway;
let call: (
  method: string,
  path: string,
  options?: { key?: string; body?: string; headers?: Record<string, string> },
) => Promise<HttpReply>;
let tenant: Tenant;

beforeAll(async () => {
  ({ gateway, call } = await startTestGateway());
  tenant = await createTenant(db, "fuzz");
  process.stdout.write(`fuzz seed: ${seed} (replay with FUZZ_SEED=${seed})\n`);
});
afterAll(() => gateway.close());

/** This test process runs no backfill state machine: starting a job is a documented 503 here. */
const noStateMachineHere = (handler: string, status: number) =>
  handler === "reclassify-start" && !process.env.BACKFILL_STATE_MACHINE_ARN && status === 503;

describe(`bad-input fuzzing (seed ${seed})`, () => {
  it("never answers 5xx, and every error is JSON with a detail", async () => {
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const route of routeList) {
      for (let i = 0; i < REQUESTS_PER_ROUTE; i++) {
        const path = route.path
          .replace("{project_id}", random() < 0.9 ? tenant.projectId : encode(randomString()))
          .replace(/\{\w+\}/g, () => (random() < 0.5 ? crypto.randomUUID() : encode(randomString())));
        const method = random() < 0.9 ? route.method : pick(["GET", "POST", "PATCH", "DELETE", "PUT"]);
        const body = method === "GET" ? undefined : randomBody();
        const headers: Record<string, string> =
          random() < 0.2
            ? { "content-type": pick(["text/plain", "application/xml", "", "application/json; charset=utf-16"]) }
            : {};
        const target = `${path}${random() < 0.5 ? "/" : ""}${randomQuery()}`;
        const request = `${method} ${target}`;
        let reply: HttpReply;
        try {
          reply = await call(method, target, { key: tenant.apiKey, body, headers });
        } catch (error) {
          failures.push(`${request}: request failed (${String(error)})`);
          continue;
        }
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (noStateMachineHere(route.handler, reply.status) && reply.json?.detail) continue;
        if (reply.status >= 500) failures.push(`${request}: ${reply.status} ${reply.text.slice(0, 200)}`);
        else if (reply.status >= 400 && typeof reply.json?.detail !== "string") {
          failures.push(`${request}: ${reply.status} without a JSON detail: ${reply.text.slice(0, 200)}`);
        }
      }
    }
    process.stdout.write(
      `fuzz: ${routeList.length * REQUESTS_PER_ROUTE} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`,
    );
    expect(failures).toEqual([]);
  });
});

/** Records a reply: a 5xx, or a 4xx without a JSON detail, is a failure. */
function judge(failures: string[], statuses: Map<number, number>, request: string, status: number, text: string) {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  let detail: unknown;
  try {
    detail = (JSON.parse(text) as { detail?: unknown }).detail;
  } catch {
    detail = undefined;
  }
  if (status >= 500) failures.push(`${request}: ${status} ${text.slice(0, 200)}`);
  else if (status >= 400 && typeof detail !== "string") failures.push(`${request}: ${status} without a JSON detail`);
}

describe(`fuzzing the classes that once answered 500 (seed ${seed})`, () => {
  it("labels racing category deletions, unknown methods and deleted projects: never a 5xx", async () => {
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const base = `/query/v1/projects/${tenant.projectId}`;
    const ROUNDS = Number(process.env.FUZZ_RACE_ROUNDS ?? 30);

    // Labels PATCHed while their category is deleted or renamed, in a random interleaving.
    const thread = (await call("POST", `${base}/chat`, { key: tenant.apiKey, body: '{"question":"race"}' })).json;
    for (let round = 0; round < ROUNDS; round++) {
      const created = await call("POST", `${base}/categories/`, {
        key: tenant.apiKey,
        body: JSON.stringify({ name: `race ${seed} ${round}` }),
      });
      const categoryId = created.json?.id as string;
      const actions = [
        ["PATCH", `${base}/threads/${thread?.thread_id}/`, JSON.stringify({ category_id: categoryId })],
        ["PATCH", `${base}/threads/${thread?.thread_id}/`, JSON.stringify({ category_id: categoryId })],
        ["DELETE", `${base}/categories/${categoryId}/`, undefined],
        ["PATCH", `${base}/categories/${categoryId}/`, JSON.stringify({ description: unicodeEdge() })],
        ["PATCH", `${base}/threads/${thread?.thread_id}/`, JSON.stringify({ category_id: null })],
      ] as const;
      const chosen = Array.from({ length: 2 + int(4) }, () => pick(actions));
      const replies = await Promise.all(
        chosen.map(([method, path, body]) => call(method, path, { key: tenant.apiKey, body })),
      );
      for (const [i, r] of replies.entries()) {
        judge(failures, statuses, `${chosen[i]?.[0]} ${chosen[i]?.[1]}`, r.status, r.text);
      }
    }

    // Methods Node's HTTP parser does not know, and ones no route has.
    for (let i = 0; i < ROUNDS; i++) {
      const method = pick(["FROB", "PROPFIND", "PURGE", "M-SEARCH", "TRACE", "LINK", "BREW", "OPTIONS", "HEAD"]);
      const reply = await rawRequest(gateway.url, method, `${base}/threads/`, { "X-API-KEY": tenant.apiKey });
      if (method !== "HEAD") judge(failures, statuses, `${method} ${base}/threads/`, reply.status, reply.body);
      else if (reply.status >= 500) failures.push(`HEAD: ${reply.status}`);
    }

    // Projects deleted while the authorizer still caches their keys.
    const cached = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
    try {
      for (let i = 0; i < Math.ceil(ROUNDS / 5); i++) {
        const doomed = await createTenant(db, "fuzz-doomed");
        const doomedBase = `/query/v1/projects/${doomed.projectId}`;
        await rawRequest(cached.url, "GET", `${doomedBase}/threads/`, { "X-API-KEY": doomed.apiKey });
        await db.delete(projects).where(eq(projects.id, doomed.projectId));
        for (const route of routeList.filter((r) => r.auth === "apiKey")) {
          const path = route.path
            .replace("{project_id}", doomed.projectId)
            .replace(/\{\w+\}/g, () => crypto.randomUUID());
          const body = route.method === "GET" ? undefined : JSON.stringify(plausibleBody());
          const reply = await fetch(`${cached.url}${path}`, {
            method: route.method,
            headers: { "X-API-KEY": doomed.apiKey, "content-type": "application/json" },
            body,
          });
          const text = await reply.text();
          // A job for a deleted project is never started, here or in AWS: 404 (400 for a bad body).
          if (route.handler === "reclassify-start") expect([400, 404], text).toContain(reply.status);
          judge(failures, statuses, `${route.method} ${path} (deleted project)`, reply.status, text);
        }
      }
    } finally {
      await cached.close();
    }
    process.stdout.write(`fuzz classes: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`);
    expect(failures).toEqual([]);
  });
});
