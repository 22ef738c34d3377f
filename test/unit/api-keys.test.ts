import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateKey, hashKey } from "../../shared/auth/api-keys.js";
import { API_KEY_SHAPE, parseKey, signatureValid } from "../../shared/auth/key-format.js";
import { authorizerResult, policyAllows, projectResources } from "../../shared/auth/policy.js";

const methodArn = (project: string, method = "GET", rest = "threads") =>
  `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/${method}/query/v1/projects/${project}/${rest}`;

describe("API key material", () => {
  it("generates distinct keys whose hash is stored, never the key", () => {
    const secret = randomBytes(32);
    const a = generateKey(secret);
    const b = generateKey(secret);
    expect(a.key).toMatch(/^kapa2_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(a.key.startsWith(`kapa2_${a.prefix}_`)).toBe(true);
    expect(a.hash).toBe(hashKey(a.key));
    expect(a.hash).not.toContain(a.key);
    expect(a.key).not.toBe(b.key);
    expect(a.prefix).not.toBe(b.prefix);
  });
});

describe("signed key format", () => {
  const secret = randomBytes(32);
  const signed = (key: string) => {
    const parsed = parseKey(key);
    if (!parsed) throw new Error(`not a key: ${key}`);
    return signatureValid(secret, parsed);
  };

  it("verifies its own keys and refuses forgeries of the same shape, other secrets' and legacy keys", () => {
    const { key } = generateKey(secret);
    expect(signed(key)).toBe(true);
    const forged = `kapa2_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
    expect(forged).toMatch(new RegExp(API_KEY_SHAPE));
    expect(signed(forged)).toBe(false);
    expect(signed(generateKey(randomBytes(32)).key)).toBe(false);
    // The same random part and MAC under another prefix: the MAC covers the prefix.
    const other = `kapa2_${randomBytes(6).toString("hex")}_${key.slice(-43)}`;
    expect(signed(other)).toBe(false);
    expect(signed(`kapa_${key.slice("kapa2_".length)}`)).toBe(false);
  });

  it("parses both shapes the WAF admits and nothing else", () => {
    const legacy = `kapa_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
    expect(parseKey(legacy)?.format).toBe("legacy");
    expect(parseKey(generateKey(secret).key)?.format).toBe("signed");
    for (const junk of ["kapa3_000000000000_x", "kapa_junk", `Bearer ${legacy}`, `${legacy}=`]) {
      expect(parseKey(junk)).toBeNull();
      expect(junk).not.toMatch(new RegExp(API_KEY_SHAPE));
    }
  });
});

describe("authorizer policy", () => {
  const granted = "11111111-1111-4111-8111-111111111111";
  const other = "22222222-2222-4222-8222-222222222222";

  it("allows every route of each granted project and nothing else", () => {
    const result = authorizerResult(methodArn(granted), { apiKeyId: "k", projectIds: [granted] });
    expect(policyAllows(result, methodArn(granted))).toBe(true);
    expect(policyAllows(result, methodArn(granted, "POST", "chat"))).toBe(true);
    expect(policyAllows(result, methodArn(granted, "GET", "threads/33333333-3333-4333-8333-333333333333"))).toBe(true);
    expect(policyAllows(result, methodArn(other))).toBe(false);
    expect(result.context).toEqual({ apiKeyId: "k", projectIds: granted });
  });

  it("is cached per key, so a policy made on one project's request covers the key's other projects", () => {
    const result = authorizerResult(methodArn(granted), { apiKeyId: "k", projectIds: [granted, other] });
    expect(policyAllows(result, methodArn(other, "POST", "chat"))).toBe(true);
  });

  it("denies everything for an unknown key", () => {
    const result = authorizerResult(methodArn(granted), null);
    expect(policyAllows(result, methodArn(granted))).toBe(false);
    expect(result.context).toBeUndefined();
  });

  it("scopes resources to the API and stage of the request", () => {
    expect(projectResources(methodArn(granted), [granted])).toEqual([
      `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/query/v1/projects/${granted}`,
      `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/query/v1/projects/${granted}/*`,
    ]);
  });
});
