import type { CfnElement } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { routeList } from "../../shared/http/routes.js";
import { only, props, ref, resourcesIn, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, template } = synth();
const logicalId = (element: CfnElement) => stack.getLogicalId(element);
const restApiId = logicalId(stack.api.restApi.node.defaultChild as CfnElement);
const stageId = logicalId(stack.api.restApi.deploymentStage.node.defaultChild as CfnElement);

/** Each method's ApiKeyRequired, by "METHOD operationId". */
function apiKeyRequired(from: Template): Map<string, unknown> {
  return new Map(
    [...resourcesIn(from, "AWS::ApiGateway::Method").values()].map((m) => [
      `${String(props(m).HttpMethod)} ${String(props(m).OperationName)}`,
      props(m).ApiKeyRequired,
    ]),
  );
}

// Assess -------------------------------------------------------------------------------------

describe("per-key limits (API Gateway usage plan, keys from the authorizer)", () => {
  it("take the usage plan key from the authorizer, never from a client header", () => {
    const api = props(resourcesIn(template, "AWS::ApiGateway::RestApi").get(restApiId));
    expect(api.ApiKeySourceType).toBe("AUTHORIZER");
  });

  it("require a usage plan key on every route behind the authorizer, and on no public one", () => {
    const required = apiKeyRequired(template);
    expect(required.size).toBe(routeList.length);
    for (const route of routeList) {
      const value = required.get(`${route.method} ${route.operationId}`);
      if (route.auth === "apiKey") expect(value, route.operationId).toBe(true);
      else expect(value, route.operationId).toBeFalsy();
    }
  });

  it("throttle each key at 20 requests/s with a burst of 40 on the stage, without a quota by default", () => {
    const plan = props(only(resourcesIn(template, "AWS::ApiGateway::UsagePlan").values(), "usage plan"));
    expect(plan.Throttle).toEqual({ RateLimit: 20, BurstLimit: 40 });
    expect(plan.Quota).toBeUndefined();
    expect(plan.ApiStages).toEqual([expect.objectContaining({ ApiId: ref(restApiId), Stage: ref(stageId) })]);
    expect(plan.UsagePlanName).toBeUndefined();
  });

  it("output the usage plan id for `kapa key create` (USAGE_PLAN_ID)", () => {
    const planId = only(resourcesIn(template, "AWS::ApiGateway::UsagePlan").keys(), "usage plan");
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.UsagePlanId?.Value).toEqual(ref(planId));
  });

  it("follow the context: limits, a daily quota, and 0 to turn them off", () => {
    const custom = synth({ "kapa:perKeyRateLimit": "5", "kapa:perKeyBurstLimit": 10, "kapa:perKeyDailyQuota": 5000 });
    const plan = props(only(resourcesIn(custom.template, "AWS::ApiGateway::UsagePlan").values(), "usage plan"));
    expect(plan.Throttle).toEqual({ RateLimit: 5, BurstLimit: 10 });
    expect(plan.Quota).toEqual({ Limit: 5000, Period: "DAY" });

    const off = synth({ "kapa:perKeyRateLimit": 0 });
    off.template.resourceCountIs("AWS::ApiGateway::UsagePlan", 0);
    expect(
      props(only(resourcesIn(off.template, "AWS::ApiGateway::RestApi").values(), "api")).ApiKeySourceType,
    ).toBeUndefined();
    for (const [key, value] of apiKeyRequired(off.template)) expect(value, key).toBeFalsy();
    expect((off.template.toJSON().Outputs as Record<string, unknown>).UsagePlanId).toBeUndefined();
  });

  it("keep the plan but enforce nothing while rolling out (kapa:requireUsagePlanKey=false)", () => {
    const rollout = synth({ "kapa:requireUsagePlanKey": "false" });
    rollout.template.resourceCountIs("AWS::ApiGateway::UsagePlan", 1);
    expect(
      props(only(resourcesIn(rollout.template, "AWS::ApiGateway::RestApi").values(), "api")).ApiKeySourceType,
    ).toBe("AUTHORIZER");
    for (const [key, value] of apiKeyRequired(rollout.template)) expect(value, key).toBeFalsy();
  });

  it("refuse a burst below the rate at synth", () => {
    expect(() => synth({ "kapa:perKeyRateLimit": 30, "kapa:perKeyBurstLimit": 10 })).toThrow(/kapa:perKeyBurstLimit/);
    expect(() => synth({ "kapa:perKeyDailyQuota": -1 })).toThrow(/kapa:perKeyDailyQuota/);
  });
});

describe("throttled and over-quota answers", () => {
  const responses = new Map(
    [...resourcesIn(template, "AWS::ApiGateway::GatewayResponse").values()].map((r) => [
      String(props(r).ResponseType),
      props(r) as {
        StatusCode?: string;
        ResponseTemplates: Record<string, string>;
        ResponseParameters?: Record<string, string>;
      },
    ]),
  );

  it.each(["THROTTLED", "QUOTA_EXCEEDED"])("%s is a 429 with a JSON detail", (type) => {
    const response = responses.get(type);
    expect(response?.StatusCode).toBe("429");
    expect(JSON.parse(response?.ResponseTemplates["application/json"] ?? "null")).toEqual({
      detail: "Too many requests",
    });
    expect(response?.ResponseParameters).toEqual({ "gatewayresponse.header.Retry-After": "'1'" });
  });
});

describe("stage execution logs", () => {
  const stage = props(resourcesIn(template, "AWS::ApiGateway::Stage").get(stageId));

  it("log errors only, never request or response data (which would carry X-API-KEY)", () => {
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: "*", ResourcePath: "/*", LoggingLevel: "ERROR", DataTraceEnabled: false }),
    ]);
  });

  it("go to API Gateway's log group for the stage, created first with the stack's retention", () => {
    const logsId = logicalId(stack.api.executionLogs.node.defaultChild as CfnElement);
    const group = props(resourcesIn(template, "AWS::Logs::LogGroup").get(logsId));
    expect(group.LogGroupName).toEqual({
      "Fn::Join": ["", ["API-Gateway-Execution-Logs_", ref(restApiId), "/prod"]],
    });
    expect(group.RetentionInDays).toBe(30);
    expect(resourcesIn(template, "AWS::ApiGateway::Stage").get(stageId)?.DependsOn).toContain(logsId);
  });
});
