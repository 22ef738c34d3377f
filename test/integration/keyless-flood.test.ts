import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, inProcess, startGateway } from "../../local/gateway.js";
import { loadStack, SHARED_CACHE_DIR } from "../../local/template.js";
import { type TopologyApi, topologyOf } from "../../local/topology.js";
import { type LocalWaf, localWaf } from "../../local/waf.js";
import { authenticateWith, generateKey, keyLookup } from "../../shared/auth/api-keys.js";
import { UnknownPrefixes } from "../../shared/auth/unknown-prefixes.js";
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
    expect(waf.inspect({ headers: { "x-api-key": generateKey().key }, sourceIp: "127.0.0.1" })).toBeNull();
  });
});

describe("the authorizer's negative cache of unknown prefixes", () => {
  it("looks a wrong-shaped key up never, and a repeated unknown prefix once per TTL, in bounded memory", async () => {
    const lookup = keyLookup(db);
    let lookups = 0;
    const counted = (prefix: string) => {
      lookups++;
      return lookup(prefix);
    };
    let now = 0;
    const unknown = new UnknownPrefixes(3, 60_000, () => now);
    const junkPrefixes = Array.from({ length: 3 }, () => generateKey().prefix);
    const junk = (prefix: string) => `kapa_${prefix}_${randomBytes(32).toString("base64url")}`;

    for (let i = 0; i < 30; i++)
      expect(await authenticateWith(counted, malformedKey(i), new Date(), unknown)).toBeNull();
    expect(lookups).toBe(0);

    // 300 junk keys over 3 prefixes, each with a new secret: 3 lookups.
    for (let i = 0; i < 300; i++) {
      expect(await authenticateWith(counted, junk(junkPrefixes[i % 3] as string), new Date(), unknown)).toBeNull();
    }
    expect(lookups).toBe(3);
    // The real key is never remembered as unknown, and is looked up each time (API Gateway caches it).
    expect(await authenticateWith(counted, tenant.apiKey, new Date(), unknown)).not.toBeNull();
    expect(lookups).toBe(4);

    // A fourth prefix evicts the oldest; after the TTL every prefix is looked up again.
    await authenticateWith(counted, junk(generateKey().prefix), new Date(), unknown);
    await authenticateWith(counted, junk(junkPrefixes[0] as string), new Date(), unknown);
    expect(lookups).toBe(6);
    expect(unknown.size).toBe(3);
    now += 60_000;
    await authenticateWith(counted, junk(junkPrefixes[2] as string), new Date(), unknown);
    expect(lookups).toBe(7);
  });
});
