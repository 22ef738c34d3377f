import type { CfnElement } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { API_KEY_SHAPE } from "../../shared/auth/key-format.js";
import { only, props, resourcesIn, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

interface Rule {
  Name: string;
  Priority: number;
  Action: unknown;
  VisibilityConfig: { SampledRequestsEnabled: boolean };
  Statement: {
    RateBasedStatement: {
      Limit: number;
      EvaluationWindowSec: number;
      AggregateKeyType: string;
      CustomKeys?: unknown[];
      ScopeDownStatement: unknown;
    };
  };
}

function firewall(context: Record<string, unknown> = {}) {
  const synthesized = synth(context);
  const acls = [...resourcesIn(synthesized.template, "AWS::WAFv2::WebACL").entries()];
  const associations = [...resourcesIn(synthesized.template, "AWS::WAFv2::WebACLAssociation").values()];
  if (acls.length === 0) return { ...synthesized, acl: null, aclId: null, rules: [], associations };
  const [aclId, acl] = only(acls, "web ACL");
  const rules = [...(props(acl).Rules as Rule[])].sort((a, b) => a.Priority - b.Priority);
  return { ...synthesized, acl: props(acl), aclId, rules, associations };
}

const keyHeader = { SingleHeader: { Name: "x-api-key" } };
const none = [{ Priority: 0, Type: "NONE" }];
const hasKey = {
  SizeConstraintStatement: { FieldToMatch: keyHeader, ComparisonOperator: "GT", Size: 0, TextTransformations: none },
};
const wellFormed = {
  RegexMatchStatement: { FieldToMatch: keyHeader, RegexString: API_KEY_SHAPE, TextTransformations: none },
};
const throttled = {
  Block: {
    CustomResponse: {
      ResponseCode: 429,
      CustomResponseBodyKey: "TooManyRequests",
      ResponseHeaders: [{ Name: "Retry-After", Value: "60" }],
    },
  },
};

// Assess -------------------------------------------------------------------------------------

describe("AWS WAF on the API stage (constructs/waf.ts)", () => {
  const { stack, acl, aclId, rules, associations } = firewall();

  it("is associated with the API's stage, after the stage exists", () => {
    expect(acl).toMatchObject({ Scope: "REGIONAL", DefaultAction: { Allow: {} } });
    const association = only(associations, "association");
    const stageId = stack.getLogicalId(stack.api.restApi.deploymentStage.node.defaultChild as CfnElement);
    expect(props(association).WebACLArn).toEqual({ "Fn::GetAtt": [aclId, "Arn"] });
    expect(JSON.stringify(props(association).ResourceArn)).toContain(`/stages/`);
    expect(association.DependsOn).toContain(stageId);
  });

  it("rate-limits keyless requests first, then malformed keys, per IP, scoped down to exactly those", () => {
    expect(rules.map((r) => [r.Priority, r.Name])).toEqual([
      [0, "KeylessPerIp"],
      [1, "MalformedKeyPerIp"],
    ]);
    const [keyless, malformed] = rules.map((r) => r.Statement.RateBasedStatement);
    expect(keyless).toEqual({
      Limit: 50,
      EvaluationWindowSec: 60,
      AggregateKeyType: "IP",
      ScopeDownStatement: { NotStatement: { Statement: hasKey } },
    });
    expect(malformed).toEqual({
      Limit: 50,
      EvaluationWindowSec: 60,
      AggregateKeyType: "IP",
      ScopeDownStatement: { AndStatement: { Statements: [hasKey, { NotStatement: { Statement: wellFormed } }] } },
    });
    // The shapes the authorizer parses (shared/auth/key-format.ts: signed and legacy), without groups.
    expect(API_KEY_SHAPE).toBe("^kapa2?_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$");
  });

  it("answers 429 with Retry-After and a {detail} body, and samples no request (they carry the key)", () => {
    for (const rule of rules) {
      expect(rule.Action, rule.Name).toEqual(throttled);
      expect(rule.VisibilityConfig.SampledRequestsEnabled, rule.Name).toBe(false);
    }
    expect(acl?.CustomResponseBodies).toEqual({
      TooManyRequests: { ContentType: "APPLICATION_JSON", Content: JSON.stringify({ detail: "Too many requests" }) },
    });
  });
});

describe("AWS WAF settings and profiles", () => {
  it("adds a rule per X-API-KEY value in the prod profile, after the per-IP rules, above what the usage plan allows", () => {
    const { rules } = firewall({ "kapa:profile": "prod" });
    expect(rules.map((r) => r.Name)).toEqual(["KeylessPerIp", "MalformedKeyPerIp", "PerApiKey"]);
    const perKey = rules[2]?.Statement.RateBasedStatement;
    // Twice one key's usage-plan allowance per window: 2 x (20/s x 60 s + 40).
    expect(perKey).toEqual({
      Limit: 2480,
      EvaluationWindowSec: 60,
      AggregateKeyType: "CUSTOM_KEYS",
      CustomKeys: [{ Header: { Name: "x-api-key", TextTransformations: none } }],
      ScopeDownStatement: wellFormed,
    });
  });

  it("takes the limits and window from the settings, and refuses limits that would defeat the rules", () => {
    const { rules } = firewall({
      "kapa:wafKeylessLimit": 20,
      "kapa:wafWindowSeconds": 300,
      "kapa:wafPerKeyLimit": 7000,
    });
    expect(
      rules.map((r) => [r.Statement.RateBasedStatement.Limit, r.Statement.RateBasedStatement.EvaluationWindowSec]),
    ).toEqual([
      [20, 300],
      [20, 300],
      [7000, 300],
    ]);
    expect(() => synth({ "kapa:wafWindowSeconds": 90 })).toThrow(/kapa:wafWindowSeconds/);
    expect(() => synth({ "kapa:wafPerKeyLimit": 100 })).toThrow(/kapa:wafPerKeyLimit/);
  });

  it("can be turned off: no web ACL, no association", () => {
    const off = firewall({ "kapa:waf": false });
    expect(off.acl).toBeNull();
    expect(off.associations).toEqual([]);
  });
});
