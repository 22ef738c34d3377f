import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, inProcess, startGateway } from "../../local/gateway.js";
import { loadStack, SHARED_CACHE_DIR } from "../../local/template.js";
import { type TopologyApi, topologyOf } from "../../local/topology.js";
import { type LocalWaf, localWaf } from "../../local/waf.js";
import { authenticateWith, generateKey, hashKey, keyLookup } from "../../shared/auth/api-keys.js";
import { parseKey } from "../../shared/auth/key-format.js";
import { KeyScreen, type ScreenSource, screenSource, signingSecret } from "../../shared/auth/key-screen.js";
import { apiKeyProjects, apiKeys } from "../../shared/db/schema.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";

/**
 * Keyless and junk-key floods from the keyed client's own address (loopback: one office behind
 * one NAT), through the local gateway with the synthesized template's WAF rules, stage throttling
 * and usage plan. Counts only: the WAF's clock is frozen, so its window never rolls over mid-test.
 */

const db = useTestDb();
const { api } = topologyOf(await loadStack({ cacheDir: SHARED_CACHE_DIR }));
const FROZEN = Date.now();

interface RateRule {
  Name: string;
  Statement: { RateBasedStatement: { Limit: number; EvaluationWindowSec: number } };
}
const rateRule = (topologyApi: TopologyApi, name: string) => {
  const rules = (topologyApi.firewall?.properties.Rules ?? []) as unknown as RateRule[];
  const rule = rules.find((r) => r.Name === name);
  if (!rule) throw new Error(`The template has no WAF rule ${name}`);
  return rule.Statement.RateBasedStatement;
};

let gateway: Gateway;
let tenant: Tenant;
let waf: LocalWaf;
const invocations = { authorizer: 0 };

beforeAll(async () => {
  tenant = await createTenant(db, "keyless-flood");
  if (!api.firewall) throw new Error("The template associates no web ACL with the stage");
  const rules = localWaf(api.firewall.properties);
  waf = { rules: rules.rules, inspect: (request) => rules.inspect(request, FROZEN) };
  const authorizer = Object.values(api.authorizers)[0];
  gateway = await startGateway({
    port: 0,
    authorizerCacheTtlSeconds: authorizer?.ttlSeconds ?? 0,
    throttling: api.throttling,
    perKey: api.usagePlan ?? undefined,
    waf,
    invoke: (target, event) => {
      if (target === "authorizer") invocations.authorizer++;
      return inProcess(target, event);
    },
  });
});
afterAll(() => gateway?.close());

interface Answer {
  status: number;
  body: string;
  retryAfter: string | null;
}

async function get(path: string, key?: string): Promise<Answer> {
  const response = await fetch(`${gateway.url.replace("localhost", "127.0.0.1")}${path}`, {
    headers: key === undefined ? {} : { "X-API-KEY": key },
  });
  return { status: response.status, body: await response.text(), retryAfter: response.headers.get("retry-after") };
}

const threads = (t: Tenant) => `/query/v1/projects/${t.projectId}/threads/`;
const statusMix = (answers: Answer[]) =>
  Object.fromEntries(
    [...new Set(answers.map((a) => a.status))].sort().map((s) => [s, answers.filter((a) => a.status === s).length]),
  );

/** Junk of the signed keys' exact shape: without the secret, nothing tells it from a real key. */
const forgedKey = () => `kapa2_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
const legacyShaped = (prefix = randomBytes(6).toString("hex")) =>
  `kapa_${prefix}_${randomBytes(32).toString("base64url")}`;

/** Junk that cannot be a key: wrong prefix, short, another scheme. */
const malformedKey = (i: number) =>
  [`kapa_junk_${i}`, `Bearer ${randomBytes(8).toString("hex")}`, `kapa_${randomBytes(6).toString("hex")}_short`][
    i % 3
  ] as string;

describe("keyless and malformed-key floods from the keyed client's address", () => {
  it("are refused by WAF's per-IP rules while every keyed request succeeds", async () => {
    const keyless = rateRule(api, "KeylessPerIp");
    const malformed = rateRule(api, "MalformedKeyPerIp");
    const keyedRequests = 30; // within the usage plan's burst: the key's own plan never refuses it
    expect(keyedRequests).toBeLessThan(api.usagePlan?.burstLimit ?? 0);
    const minimumFlood = 4 * Math.max(keyless.Limit, malformed.Limit);

    const flood: { keyless: Answer[]; malformed: Answer[] } = { keyless: [], malformed: [] };
    let keyedDone = false;
    let sent = 0;
    const worker = async (w: number) => {
      // Until the keyed client is done and each kind has sent several times its limit.
      while (!keyedDone || sent < 2 * minimumFlood) {
        const i = sent++;
        if ((i + w) % 2 === 0) flood.keyless.push(await get(threads(tenant)));
        else flood.malformed.push(await get(threads(tenant), malformedKey(i)));
      }
    };
    const keyed = async () => {
      const answers: Answer[] = [];
      for (let i = 0; i < keyedRequests; i++) answers.push(await get(threads(tenant), tenant.apiKey));
      keyedDone = true;
      return answers;
    };
    const authorizerBefore = invocations.authorizer;
    const [keyedAnswers] = await Promise.all([keyed(), ...Array.from({ length: 16 }, (_, w) => worker(w))]);

    expect(statusMix(keyedAnswers)).toEqual({ 200: keyedRequests });
    // WAF lets exactly `limit` of each kind through (the gateway then answers them 401 and 403),
    // and blocks the rest with its custom response.
    expect(statusMix(flood.keyless)).toEqual({ 401: keyless.Limit, 429: flood.keyless.length - keyless.Limit });
    expect(statusMix(flood.malformed)).toEqual({
      403: malformed.Limit,
      429: flood.malformed.length - malformed.Limit,
    });
    for (const answer of [...flood.keyless, ...flood.malformed].filter((a) => a.status === 429)) {
      expect(JSON.parse(answer.body)).toEqual({ detail: "Too many requests" });
      expect(answer.retryAfter).toBe(String(keyless.EvaluationWindowSec));
    }
    // The authorizer ran for the keyed client's key once (then cached) and for the malformed keys
    // WAF let through; the keyless ones never reach it.
    expect(invocations.authorizer - authorizerBefore).toBe(1 + malformed.Limit);
  });

  it("keeps blocking a flooding address and no other: a keyless caller from elsewhere still gets through", () => {
    const blocked = waf.inspect({ headers: {}, sourceIp: "127.0.0.1" });
    expect(blocked?.rule).toBe("KeylessPerIp");
    expect(waf.inspect({ headers: {}, sourceIp: "192.0.2.7" })).toBeNull();
    // A well-formed key is never the per-IP rules' business.
    expect(waf.inspect({ headers: { "x-api-key": forgedKey() }, sourceIp: "127.0.0.1" })).toBeNull();
  });
});

describe("a flood of well-formed junk keys from the keyed client's address", () => {
  it("is refused by the authorizer without taking the stage's tokens: every keyed request succeeds", async () => {
    // A stage bucket the flood alone would empty many times over, refilled at 1 request a second.
    const keyedRequests = 30;
    const stage = { rateLimit: 1, burstLimit: keyedRequests + 5 };
    const small = await startGateway({
      port: 0,
      authorizerCacheTtlSeconds: Object.values(api.authorizers)[0]?.ttlSeconds ?? 0,
      throttling: stage,
      perKey: api.usagePlan ?? undefined,
      waf: null,
      invoke: inProcess,
    });
    try {
      const call = async (key: string) => {
        const response = await fetch(`${small.url.replace("localhost", "127.0.0.1")}${threads(tenant)}`, {
          headers: { "X-API-KEY": key },
        });
        await response.arrayBuffer();
        return response.status;
      };
      const forged: number[] = [];
      let keyedDone = false;
      const worker = async () => {
        while (!keyedDone || forged.length < 4 * stage.burstLimit) forged.push(await call(forgedKey()));
      };
      const keyed = async () => {
        const statuses: number[] = [];
        for (let i = 0; i < keyedRequests; i++) statuses.push(await call(tenant.apiKey));
        keyedDone = true;
        return statuses;
      };
      const [keyedStatuses] = await Promise.all([keyed(), ...Array.from({ length: 16 }, worker)]);
      expect(new Set(keyedStatuses)).toEqual(new Set([200]));
      expect(forged.length).toBeGreaterThanOrEqual(4 * stage.burstLimit);
      expect(new Set(forged)).toEqual(new Set([403]));
    } finally {
      await small.close();
    }
  });
});

describe("the authorizer's screen before any key lookup", () => {
  it("looks up no forged signed key and no legacy-shaped key of an unknown prefix, and still admits real ones", async () => {
    const lookup = keyLookup(db);
    const calls = { lookups: 0, secret: 0, legacy: 0 };
    const counted = (prefix: string) => {
      calls.lookups++;
      return lookup(prefix);
    };
    const real = screenSource(db);
    const source: ScreenSource = {
      signingSecret: () => {
        calls.secret++;
        return real.signingSecret();
      },
      legacyPrefixes: () => {
        calls.legacy++;
        return real.legacyPrefixes();
      },
    };
    let now = 0;
    const screen = new KeyScreen(source, 60_000, () => now);
    const authenticate = async (raw: string) => {
      const parsed = parseKey(raw);
      if (!parsed || !(await screen.admits(parsed))) return null;
      return authenticateWith(counted, raw, new Date());
    };
    // A key issued before signing: inserted as the old code made them.
    const legacyPrefix = randomBytes(6).toString("hex");
    const legacyKey = legacyShaped(legacyPrefix);
    const [row] = await db
      .insert(apiKeys)
      .values({ name: "legacy", prefix: legacyPrefix, hash: hashKey(legacyKey) })
      .returning({ id: apiKeys.id });
    await db.insert(apiKeyProjects).values({ apiKeyId: row?.id as string, projectId: tenant.projectId });

    for (let i = 0; i < 30; i++) expect(await authenticate(malformedKey(i))).toBeNull();
    for (let i = 0; i < 300; i++) expect(await authenticate(forgedKey())).toBeNull();
    for (let i = 0; i < 300; i++) expect(await authenticate(legacyShaped())).toBeNull();
    expect(calls).toEqual({ lookups: 0, secret: 1, legacy: 1 });

    // Real keys of both formats: one lookup each (API Gateway caches the result).
    expect((await authenticate(tenant.apiKey))?.projectIds).toEqual([tenant.projectId]);
    expect((await authenticate(legacyKey))?.projectIds).toEqual([tenant.projectId]);
    // A signed key under the server's secret but with no row (never issued): one lookup, refused.
    expect(await authenticate(generateKey(await signingSecret(db)).key)).toBeNull();
    expect(calls).toEqual({ lookups: 3, secret: 1, legacy: 1 });

    // The legacy prefixes are read again after their TTL: a revoked key drops out of them.
    await db.update(apiKeys).set({ revoked: true }).where(eq(apiKeys.prefix, legacyPrefix));
    now += 60_000;
    expect(await authenticate(legacyKey)).toBeNull();
    expect(calls).toEqual({ lookups: 3, secret: 1, legacy: 2 });
  });
});
