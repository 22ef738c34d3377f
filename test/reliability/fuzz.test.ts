import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../local/gateway.js";
import { routeList } from "../../shared/http/routes.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { type HttpReply, startTestGateway } from "../support/http.js";

/**
 * Bad-input fuzzing of every route of the route table, with a valid key so that the requests
 * reach the handlers: random and malformed bodies, path segments, query strings and huge
 * payloads. Zero 5xx; every error is JSON with a `detail`. The seed is printed; FUZZ_SEED replays.
 */
const db = useTestDb();
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS_PER_ROUTE = Number(process.env.FUZZ_REQUESTS_PER_ROUTE ?? 80);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(start: number) {
  let a = start >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (max: number) => Math.floor(random() * max);

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
  return JSON.stringify(randomJson());
}

function randomQuery(): string {
  const keys = ["limit", "offset", "cursor", "category", "source", "created_after", "created_before", randomString()];
  const values = [() => randomString(), () => String(int(2_000_000) - 1000), () => crypto.randomUUID(), () => "none"];
  const pairs = Array.from({ length: int(5) }, () => [pick(keys), pick(values)()]);
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
