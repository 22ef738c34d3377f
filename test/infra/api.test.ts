import type { CfnElement } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { API_KEY_HEADER } from "../../infra/constructs/api.js";
import { routeList } from "../../shared/http/routes.js";
import * as fixture from "./stack-fixture.js";
import { mentions, only, props, ref, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, template, idOf, fnId, resourcesOf } = synth();

// Assess -------------------------------------------------------------------------------------

describe("API Gateway routes come from the route table", () => {
  const methods = fixture.apiMethods();

  it("has exactly one method per route, on the route's resource path", () => {
    const expected = routeList.map((r) => `${r.method} ${r.path}`).sort();
    expect(methods.map((m) => m.key).sort()).toEqual(expected);
    template.resourceCountIs("AWS::ApiGateway::Method", routeList.length);
  });

  it("creates one resource per distinct path segment, nothing more", () => {
    const prefixes = new Set(
      routeList.flatMap((r) => {
        const parts = r.path.split("/").filter(Boolean);
        return parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
      }),
    );
    template.resourceCountIs("AWS::ApiGateway::Resource", prefixes.size);
  });

  it("protects the apiKey routes with the authorizer and leaves the docs routes open", () => {
    const authorizerId = only(resourcesOf("AWS::ApiGateway::Authorizer").keys(), "authorizer");
    for (const route of routeList) {
      const method = only(
        methods.filter((m) => m.key === `${route.method} ${route.path}`),
        route.path,
      );
      if (route.auth === "apiKey") {
        expect(method.authorizationType, route.path).toBe("CUSTOM");
        expect(method.authorizerId, route.path).toEqual(ref(authorizerId));
      } else {
        expect(method.authorizationType, route.path).toBe("NONE");
        expect(method.authorizerId, route.path).toBeUndefined();
      }
    }
    expect(routeList.filter((r) => r.handler === "docs").every((r) => r.auth === "none")).toBe(true);
  });

  it("integrates each route with its own handler's function (Lambda proxy)", () => {
    expect([...fixture.functionsByHandler.keys()].sort()).toEqual(fixture.handlerNames);
    for (const route of routeList) {
      const method = only(
        methods.filter((m) => m.key === `${route.method} ${route.path}`),
        route.path,
      );
      const fn = fixture.functionsByHandler.get(route.handler);
      if (!fn) throw new Error(`No function for ${route.handler}`);
      expect(method.integration.Type).toBe("AWS_PROXY");
      expect(method.integration.IntegrationHttpMethod).toBe("POST");
      expect(mentions(method.integration.Uri, fnId(fn)), route.path).toBe(true);
      for (const [other, otherFn] of fixture.functionsByHandler) {
        if (other !== route.handler) expect(mentions(method.integration.Uri, fnId(otherFn))).toBe(false);
      }
    }
  });

  it("lets API Gateway invoke each handler only for its own methods", () => {
    const permissions = [...resourcesOf("AWS::Lambda::Permission").values()].map(props);
    // One per method (no test-invoke permissions) plus one for the authorizer.
    expect(permissions).toHaveLength(routeList.length + 1);
    for (const p of permissions) {
      expect(p.Principal).toBe("apigateway.amazonaws.com");
      expect(p.Action).toBe("lambda:InvokeFunction");
    }
  });
});

describe("authorizer", () => {
  it("is a cached REQUEST authorizer on the X-API-KEY header", () => {
    template.resourceCountIs("AWS::ApiGateway::Authorizer", 1);
    const authorizer = props(only(resourcesOf("AWS::ApiGateway::Authorizer").values(), "authorizer"));
    expect(authorizer.Type).toBe("REQUEST");
    expect(authorizer.IdentitySource).toBe(`method.request.header.${API_KEY_HEADER}`);
    expect(authorizer.AuthorizerResultTtlInSeconds).toBe(60);
    expect(mentions(authorizer.AuthorizerUri, fixture.authorizerFnId)).toBe(true);
  });
});

describe("stage", () => {
  const stage = props(only(resourcesOf("AWS::ApiGateway::Stage").values(), "stage"));

  it("is named prod and throttled, with metrics", () => {
    expect(stage.StageName).toBe("prod");
    const settings = only(stage.MethodSettings as Record<string, unknown>[], "method setting");
    expect(settings).toMatchObject({
      HttpMethod: "*",
      ResourcePath: "/*",
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
      MetricsEnabled: true,
    });
  });

  it("writes JSON access logs to its own log group", () => {
    const accessLog = stage.AccessLogSetting as { DestinationArn: unknown; Format: string };
    const logGroupId = idOf(stack.api.accessLogs.node.defaultChild as CfnElement);
    expect(mentions(accessLog.DestinationArn, logGroupId)).toBe(true);
    const format = JSON.parse(accessLog.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: "$context.requestId",
      ip: "$context.identity.sourceIp",
      httpMethod: "$context.httpMethod",
      resourcePath: "$context.resourcePath",
      status: "$context.status",
    });
    expect(props(resourcesOf("AWS::Logs::LogGroup").get(logGroupId) ?? { Type: "" }).RetentionInDays).toBe(30);
    // Access logging needs API Gateway's CloudWatch role in the account.
    template.resourceCountIs("AWS::ApiGateway::Account", 1);
  });

  it("takes its settings from the context", () => {
    const custom = synth({
      "kapa:stageName": "staging",
      "kapa:throttlingRateLimit": "7",
      "kapa:throttlingBurstLimit": 9,
    });
    const customStage = props(only(custom.resourcesOf("AWS::ApiGateway::Stage").values(), "stage"));
    expect(customStage.StageName).toBe("staging");
    expect(customStage.MethodSettings).toEqual([
      expect.objectContaining({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 }),
    ]);
  });

  it("rejects invalid settings at synth", () => {
    expect(() => synth({ "kapa:dbMaxCapacity": "0.7" })).toThrow(/kapa:dbMaxCapacity/);
    expect(() => synth({ "kapa:logRetentionDays": 31 })).toThrow(/kapa:logRetentionDays/);
    expect(() => synth({ "kapa:throttlingRateLimit": 500, "kapa:throttlingBurstLimit": 100 })).toThrow(
      /kapa:throttlingBurstLimit/,
    );
  });
});

describe("gateway responses", () => {
  const responses = new Map(
    [...resourcesOf("AWS::ApiGateway::GatewayResponse").values()].map((r) => [
      String(props(r).ResponseType),
      props(r) as {
        StatusCode?: string;
        ResponseTemplates: Record<string, string>;
        ResponseParameters?: Record<string, string>;
      },
    ]),
  );
  const detailOf = (type: string) => {
    const response = responses.get(type);
    if (!response) throw new Error(`No gateway response ${type}`);
    return JSON.parse(response.ResponseTemplates["application/json"] ?? "null") as unknown;
  };

  it("answers a missing key with 401 and a detail", () => {
    expect(responses.get("UNAUTHORIZED")?.StatusCode).toBe("401");
    expect(detailOf("UNAUTHORIZED")).toEqual({ detail: "Missing API key (X-API-KEY header)" });
  });

  it("answers a denied key with 403 Forbidden", () => {
    expect(responses.get("ACCESS_DENIED")?.StatusCode).toBe("403");
    expect(detailOf("ACCESS_DENIED")).toEqual({ detail: "Forbidden" });
  });

  it("answers unknown routes with 404 and authorizer failures 503 with Retry-After", () => {
    expect(responses.get("MISSING_AUTHENTICATION_TOKEN")?.StatusCode).toBe("404");
    expect(detailOf("MISSING_AUTHENTICATION_TOKEN")).toEqual({ detail: "Not found" });
    for (const type of ["AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"]) {
      expect(responses.get(type)?.StatusCode).toBe("503");
      expect(responses.get(type)?.ResponseParameters).toEqual({ "gatewayresponse.header.Retry-After": "'1'" });
      expect(detailOf(type)).toEqual({ detail: expect.any(String) });
    }
    expect(responses.get("REQUEST_TOO_LARGE")?.StatusCode).toBe("413");
    expect(responses.get("THROTTLED")?.StatusCode).toBe("429");
  });

  it("gives every API Gateway error a JSON {detail} body", () => {
    expect(responses.size).toBeGreaterThanOrEqual(10);
    for (const [type, response] of responses) {
      const body = response.ResponseTemplates["application/json"];
      expect(body, type).toBeDefined();
      if (body?.includes("$context.error.messageString")) {
        expect(body, type).toBe('{"detail":$context.error.messageString}');
      } else {
        expect(JSON.parse(body ?? ""), type).toEqual({ detail: expect.any(String) });
      }
    }
    // The generic 4xx keeps API Gateway's status code and message.
    expect(responses.get("DEFAULT_4XX")?.StatusCode).toBeUndefined();
    expect(responses.has("DEFAULT_5XX")).toBe(true);
  });
});
