import { describe, expect, it } from "vitest";
import { generateKey, hashKey } from "../../shared/auth/api-keys.js";
import { authorizerResult, policyAllows, projectResources } from "../../shared/auth/policy.js";

const methodArn = (project: string, method = "GET", rest = "threads") =>
  `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/${method}/query/v1/projects/${project}/${rest}`;

describe("API key material", () => {
  it("generates distinct keys whose hash is stored, never the key", () => {
    const a = generateKey();
    const b = generateKey();
    expect(a.key).toMatch(/^kapa_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(a.key.startsWith(`kapa_${a.prefix}_`)).toBe(true);
    expect(a.hash).toBe(hashKey(a.key));
    expect(a.hash).not.toContain(a.key);
    expect(a.key).not.toBe(b.key);
    expect(a.prefix).not.toBe(b.prefix);
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
