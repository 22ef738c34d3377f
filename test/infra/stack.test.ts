import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, type CfnElement } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { API_KEY_HEADER } from "../../infra/constructs/api.js";
import { DATABASE_NAME } from "../../infra/constructs/database.js";
import { KapaFunction, LAMBDA_RUNTIME } from "../../infra/constructs/lambda.js";
import { MIGRATIONS_DIR } from "../../infra/constructs/migrations.js";
import { KapaServiceStack } from "../../infra/stack.js";
import { routeList } from "../../shared/http/routes.js";
import {
  asArray,
  type CfnResource,
  cdkJsonContext,
  fnLogicalIdOf,
  identityStatements,
  mentions,
  only,
  props,
  ref,
  resourcesIn,
  roleIdOf as roleIdIn,
  type Statement,
  statementsOfRole as statementsOfRoleIn,
  synth,
} from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, template } = synth();

const resourcesOf = (type: string, from: Template = template) => resourcesIn(from, type);
const logicalId = (element: CfnElement) => stack.getLogicalId(element);
const fnLogicalId = (fn: KapaFunction) => fnLogicalIdOf(stack, fn);
const statementsOfRole = (roleId: string): Statement[] => statementsOfRoleIn(template, roleId);
const roleIdOf = (functionId: string): string => roleIdIn(template, functionId);

const appFunctions = stack.node.findAll().filter((c): c is KapaFunction => c instanceof KapaFunction);
const handlerNames = [...new Set(routeList.map((r) => r.handler))].sort();
const functionsByHandler = stack.api.handlers;
const authorizerFnId = fnLogicalId(stack.api.authorizerFunction);
const migrateFnId = fnLogicalId(stack.migrations.handler);
const classifierFnId = fnLogicalId(stack.classification.classifier);
const sweeperFnId = fnLogicalId(stack.classification.sweeper);
const backfillFnIds = [fnLogicalId(stack.backfill.plan), fnLogicalId(stack.backfill.enqueueRange)];
const secretRef = stack.resolve(stack.database.secret.secretArn) as unknown;
/** The application's login: every database function but the migrations connects with it. */
const appSecretRef = stack.resolve(stack.database.appSecret.secretArn) as unknown;
const secretOf = (id: string) => (id === migrateFnId ? secretRef : appSecretRef);
const proxyEndpoint = stack.resolve(stack.database.proxy.endpoint) as unknown;
const functionSgId = logicalId(stack.database.functionSecurityGroup.node.defaultChild as CfnElement);
/** Handlers that serve static documents (API reference, dashboard): no database. */
const STATIC_HANDLERS = ["docs", "dashboard"];
const dbFunctionIds = [
  ...[...functionsByHandler.entries()]
    .filter(([name]) => !STATIC_HANDLERS.includes(name))
    .map(([, fn]) => fnLogicalId(fn)),
  authorizerFnId,
  migrateFnId,
  classifierFnId,
  sweeperFnId,
  ...backfillFnIds,
];

/** "METHOD /full/path" of every API Gateway method, from the Resource PathPart/ParentId tree. */
function apiMethods(from: Template = template) {
  const resources = resourcesOf("AWS::ApiGateway::Resource", from);
  const pathOf = (id: unknown): string => {
    if (typeof id === "object" && id !== null && "Fn::GetAtt" in id) return ""; // the root resource
    const parentRef = (id as { Ref?: string }).Ref;
    const resource = parentRef ? resources.get(parentRef) : undefined;
    if (!resource) throw new Error(`Unknown API resource ${JSON.stringify(id)}`);
    return `${pathOf(props(resource).ParentId)}/${String(props(resource).PathPart)}`;
  };
  return [...resourcesOf("AWS::ApiGateway::Method", from).values()].map((method) => {
    const p = props(method);
    return {
      key: `${String(p.HttpMethod)} ${pathOf(p.ResourceId) || "/"}`,
      authorizationType: p.AuthorizationType,
      authorizerId: p.AuthorizerId,
      integration: p.Integration as { Type: string; IntegrationHttpMethod: string; Uri: unknown },
    };
  });
}

// Assess -------------------------------------------------------------------------------------

describe("API Gateway routes come from the route table", () => {
  const methods = apiMethods();

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
    expect([...functionsByHandler.keys()].sort()).toEqual(handlerNames);
    for (const route of routeList) {
      const method = only(
        methods.filter((m) => m.key === `${route.method} ${route.path}`),
        route.path,
      );
      const fn = functionsByHandler.get(route.handler);
      if (!fn) throw new Error(`No function for ${route.handler}`);
      expect(method.integration.Type).toBe("AWS_PROXY");
      expect(method.integration.IntegrationHttpMethod).toBe("POST");
      expect(mentions(method.integration.Uri, fnLogicalId(fn)), route.path).toBe(true);
      for (const [other, otherFn] of functionsByHandler) {
        if (other !== route.handler) expect(mentions(method.integration.Uri, fnLogicalId(otherFn))).toBe(false);
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
    expect(mentions(authorizer.AuthorizerUri, authorizerFnId)).toBe(true);
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
    const logGroupId = logicalId(stack.api.accessLogs.node.defaultChild as CfnElement);
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
    const customStage = props(only(resourcesOf("AWS::ApiGateway::Stage", custom.template).values(), "stage"));
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

describe("Lambda functions", () => {
  const functions = resourcesOf("AWS::Lambda::Function");
  const appIds = appFunctions.map(fnLogicalId);

  it("are one per distinct handler, plus the authorizer, the migrator, the classifier, the sweeper, the report planner and sender, the backfill tasks and the export worker", () => {
    expect(appFunctions).toHaveLength(handlerNames.length + 9);
    expect(new Set(appIds)).toEqual(
      new Set([
        ...[...functionsByHandler.values()].map(fnLogicalId),
        authorizerFnId,
        migrateFnId,
        classifierFnId,
        sweeperFnId,
        fnLogicalId(stack.reports.planner),
        fnLogicalId(stack.reports.sender),
        ...backfillFnIds,
        fnLogicalId(stack.exports.worker),
      ]),
    );
  });

  it(`run ${LAMBDA_RUNTIME.name} on arm64 with source maps and their own log group`, () => {
    const logGroups = resourcesOf("AWS::Logs::LogGroup");
    for (const id of appIds) {
      const p = props(functions.get(id) ?? { Type: "" });
      expect(p.Runtime, id).toBe(LAMBDA_RUNTIME.name);
      expect(p.Runtime, id).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      expect(p.Architectures, id).toEqual(["arm64"]);
      expect(p.Handler, id).toBe("index.handler");
      expect(p.MemorySize, id).toBeGreaterThanOrEqual(512);
      expect(p.MemorySize, id).toBeLessThanOrEqual(1024);
      // The export worker streams a whole project's threads: Lambda's longest timeout.
      expect(p.Timeout, id).toBeLessThanOrEqual(id === fnLogicalId(stack.exports.worker) ? 900 : 300);
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.NODE_OPTIONS, id).toBe("--enable-source-maps");
      expect(env.LOG_LEVEL, id).toBe("info");
      const logGroupId = (p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(props(logGroups.get(logGroupId) ?? { Type: "" }).RetentionInDays, id).toBe(30);
    }
  });

  it("that use the database get its env and run in its security group", () => {
    expect(dbFunctionIds).toHaveLength(handlerNames.length - STATIC_HANDLERS.length + 6);
    for (const id of dbFunctionIds) {
      const p = props(functions.get(id) ?? { Type: "" });
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.DB_SECRET_ARN, id).toEqual(secretOf(id));
      expect(env.DB_HOST, id).toEqual(proxyEndpoint);
      expect(env.DB_NAME, id).toBe(DATABASE_NAME);
      expect(["1", "2"], id).toContain(env.DB_POOL_MAX);
      const vpc = p.VpcConfig as { SecurityGroupIds: unknown[]; SubnetIds: unknown[] };
      expect(vpc.SecurityGroupIds, id).toEqual([{ "Fn::GetAtt": [functionSgId, "GroupId"] }]);
      expect(vpc.SubnetIds, id).toHaveLength(2);
    }
  });

  it("the docs function ships Redoc and has no database access", () => {
    const docs = functionsByHandler.get("docs");
    if (!docs) throw new Error("No docs function");
    const p = props(functions.get(fnLogicalId(docs)) ?? { Type: "" });
    const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.REDOC_SCRIPT_PATH).toBe("/var/task/redoc.standalone.js");
    expect(Object.keys(env).filter((k) => k.startsWith("DB_"))).toEqual([]);
    expect(p.VpcConfig).toBeUndefined();
  });

  it("the dashboard function ships its built page, script and styles and has no database access", () => {
    const dashboard = functionsByHandler.get("dashboard");
    if (!dashboard) throw new Error("No dashboard function");
    const p = props(functions.get(fnLogicalId(dashboard)) ?? { Type: "" });
    const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.DASHBOARD_ASSETS_DIR).toBe("/var/task/dashboard");
    expect(Object.keys(env).filter((k) => k.startsWith("DB_"))).toEqual([]);
    expect(p.VpcConfig).toBeUndefined();
    expect(statementsOfRole(roleIdOf(fnLogicalId(dashboard)))).toEqual([]);
  });

  it("CDK's own helper functions get nothing of the database", () => {
    for (const [id, fn] of functions) {
      if (appIds.includes(id)) continue;
      expect(JSON.stringify(props(fn).Environment ?? {}), id).not.toContain("DB_SECRET_ARN");
      expect(props(fn).VpcConfig, id).toBeUndefined();
    }
  });

  it("have no hard-coded physical names", () => {
    // API Gateway names its execution log group after the API's id; the stack creates it to set its retention.
    const executionLogsId = logicalId(stack.api.executionLogs.node.defaultChild as CfnElement);
    for (const [type, property] of [
      ["AWS::Lambda::Function", "FunctionName"],
      ["AWS::IAM::Role", "RoleName"],
      ["AWS::Logs::LogGroup", "LogGroupName"],
      ["AWS::SecretsManager::Secret", "Name"],
      ["AWS::RDS::DBCluster", "DBClusterIdentifier"],
      ["AWS::RDS::DBInstance", "DBInstanceIdentifier"],
      ["AWS::EC2::SecurityGroup", "GroupName"],
      ["AWS::SQS::Queue", "QueueName"],
      ["AWS::Scheduler::Schedule", "Name"],
      ["AWS::CloudWatch::Alarm", "AlarmName"],
    ] as const) {
      for (const [id, resource] of resourcesOf(type)) {
        if (id === executionLogsId) continue;
        expect(props(resource)[property], `${id}.${property}`).toBeUndefined();
      }
    }
  });
});

describe("IAM least privilege", () => {
  const allStatements = identityStatements(template).map((s) => s.statement);

  it("grants no wildcard or IAM actions anywhere", () => {
    expect(allStatements.length).toBeGreaterThan(0);
    for (const statement of allStatements) {
      for (const action of asArray(statement.Action)) {
        expect(action).not.toBe("*");
        expect(action).not.toMatch(/^iam:/);
        expect(action).not.toMatch(/:\*$/);
      }
    }
  });

  it("scopes secret and database actions to the database secret, never *", () => {
    const sensitive = allStatements.filter((s) =>
      asArray(s.Action).some((a) => a.startsWith("secretsmanager:") || a.startsWith("rds-db:")),
    );
    // The proxy's role and every database function read the secret.
    expect(sensitive.length).toBeGreaterThanOrEqual(dbFunctionIds.length + 1);
    for (const statement of sensitive) {
      for (const resource of asArray(statement.Resource)) expect([secretRef, appSecretRef]).toContainEqual(resource);
      for (const action of asArray(statement.Action)) {
        expect(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]).toContain(action);
      }
    }
  });

  it("gives each database function read access to the secret, and nothing on *", () => {
    for (const id of dbFunctionIds) {
      const statements = statementsOfRole(roleIdOf(id));
      const secretStatements = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("secretsmanager:")));
      const read = (resource: unknown) => ({
        Effect: "Allow",
        Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        Resource: resource,
      });
      // The migrations read the owner's secret and the application's (to create its login); the rest, the application's.
      const expected = id === migrateFnId ? [read([appSecretRef, secretRef])] : [read(appSecretRef)];
      expect(secretStatements, id).toEqual(expected);
      for (const statement of statements) expect(asArray(statement.Resource), id).not.toContain("*");
    }
  });

  it("gives the docs function no policy beyond basic logging", () => {
    const docs = functionsByHandler.get("docs");
    if (!docs) throw new Error("No docs function");
    const roleId = roleIdOf(fnLogicalId(docs));
    expect(statementsOfRole(roleId)).toEqual([]);
    const managed = JSON.stringify(props(resourcesOf("AWS::IAM::Role").get(roleId) ?? { Type: "" }).ManagedPolicyArns);
    expect(managed).toContain("AWSLambdaBasicExecutionRole");
    expect(managed).not.toContain("AWSLambdaVPCAccessExecutionRole");
  });
});

describe("database", () => {
  it("is an encrypted Aurora PostgreSQL 16 Serverless v2 cluster named kapa", () => {
    template.resourceCountIs("AWS::RDS::DBCluster", 1);
    const cluster = props(only(resourcesOf("AWS::RDS::DBCluster").values(), "cluster"));
    expect(cluster.Engine).toBe("aurora-postgresql");
    expect(cluster.EngineVersion).toMatch(/^16\.\d+$/);
    expect(cluster.StorageEncrypted).toBe(true);
    expect(cluster.DatabaseName).toBe("kapa");
    expect(cluster.ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 4 });
    // The password is generated into Secrets Manager and resolved by CloudFormation, never literal.
    expect(JSON.stringify(cluster.MasterUserPassword)).toContain("{{resolve:secretsmanager:");
    const instance = props(only(resourcesOf("AWS::RDS::DBInstance").values(), "instance"));
    expect(instance.DBInstanceClass).toBe("db.serverless");
    expect(instance.PubliclyAccessible).toBe(false);
  });

  it("sits behind an RDS Proxy that requires TLS and uses the generated secret", () => {
    template.resourceCountIs("AWS::RDS::DBProxy", 1);
    const proxy = props(only(resourcesOf("AWS::RDS::DBProxy").values(), "proxy"));
    expect(proxy.RequireTLS).toBe(true);
    expect(proxy.EngineFamily).toBe("POSTGRESQL");
    expect(proxy.Auth).toEqual([
      expect.objectContaining({ AuthScheme: "SECRETS", SecretArn: secretRef }),
      expect.objectContaining({ AuthScheme: "SECRETS", SecretArn: appSecretRef }),
    ]);
  });

  it("admits only the function security group to the proxy, on 5432", () => {
    const proxyId = only(resourcesOf("AWS::RDS::DBProxy").keys(), "proxy");
    const proxySgRef = (
      props(resourcesOf("AWS::RDS::DBProxy").get(proxyId) ?? { Type: "" }).VpcSecurityGroupIds as unknown[]
    )[0];
    const proxySgId = (proxySgRef as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const ingress = [...resourcesOf("AWS::EC2::SecurityGroupIngress").values()]
      .map(props)
      .filter((p) => mentions(p.GroupId, proxySgId));
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { "Fn::GetAtt": [functionSgId, "GroupId"] },
      }),
    ]);
    for (const [id, sg] of resourcesOf("AWS::EC2::SecurityGroup")) {
      expect(props(sg).SecurityGroupIngress, id).toBeUndefined(); // no inline (CIDR) ingress anywhere
    }
    for (const p of [...resourcesOf("AWS::EC2::SecurityGroupIngress").values()].map(props)) {
      expect(p.CidrIp).toBeUndefined();
    }
  });

  it("reaches Secrets Manager, SQS, SES and Step Functions through interface endpoints, S3 through a gateway one, without NAT", () => {
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
    template.resourceCountIs("AWS::EC2::InternetGateway", 0);
    const all = [...resourcesOf("AWS::EC2::VPCEndpoint").values()].map(props);
    const gateways = all.filter((e) => e.VpcEndpointType === "Gateway");
    expect(gateways.map((e) => JSON.stringify(e.ServiceName).match(/\.([a-z0-9-]+)"\]/)?.[1])).toEqual(["s3"]);
    const endpoints = all.filter((e) => e.VpcEndpointType !== "Gateway");
    const services = endpoints.map((e) => JSON.stringify(e.ServiceName).match(/\.([a-z-]+)"\]/)?.[1]).sort();
    expect(services).toEqual(["email", "secretsmanager", "sqs", "states"]);
    for (const endpoint of endpoints) {
      expect(endpoint.PrivateDnsEnabled).toBe(true);
      expect(endpoint.VpcEndpointType).toBe("Interface");
    }
  });
});

describe("migrations", () => {
  const triggers = resourcesOf("Custom::Trigger");

  it("run the migrate function on deploy, after the database and before the API", () => {
    expect(triggers.size).toBe(1);
    const [triggerId, trigger] = only(triggers.entries(), "trigger");
    const versionId = (props(trigger).HandlerArn as { Ref: string }).Ref;
    const version = props(resourcesOf("AWS::Lambda::Version").get(versionId) ?? { Type: "" });
    expect(version.FunctionName).toEqual(ref(migrateFnId));
    expect(props(trigger).ExecuteOnHandlerChange).toBe(true);
    expect(props(trigger).InvocationType).toBe("RequestResponse");

    const after = new Set(trigger.DependsOn ?? []);
    const must = [
      only(resourcesOf("AWS::RDS::DBCluster").keys(), "cluster"),
      only(resourcesOf("AWS::RDS::DBInstance").keys(), "instance"),
      only(resourcesOf("AWS::RDS::DBProxy").keys(), "proxy"),
      only(resourcesOf("AWS::RDS::DBProxyTargetGroup").keys(), "target group"),
      ...resourcesOf("AWS::EC2::VPCEndpoint").keys(),
    ];
    for (const id of must) expect(after, id).toContain(id);

    for (const id of [...[...functionsByHandler.values()].map(fnLogicalId), classifierFnId, sweeperFnId]) {
      expect(resourcesOf("AWS::Lambda::Function").get(id)?.DependsOn, id).toContain(triggerId);
    }
  });

  it("bundle the migrations folder", () => {
    const p = props(resourcesOf("AWS::Lambda::Function").get(migrateFnId) ?? { Type: "" });
    expect((p.Environment as { Variables: Record<string, unknown> }).Variables.MIGRATIONS_DIR).toBe(MIGRATIONS_DIR);
    expect(MIGRATIONS_DIR).toBe("/var/task/drizzle");
  });
});

describe("outputs", () => {
  it("export the API URL and the database secret ARN", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain("execute-api");
    expect(outputs.DatabaseSecretArn?.Value).toEqual(secretRef);
  });
});

describe("bundling with local esbuild (no Docker)", () => {
  it("produces ESM bundles with the migrations and the Redoc script", { timeout: 240_000 }, () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "kapa-cdk-"));
    try {
      const app = new App({
        outdir,
        context: { ...cdkJsonContext(), "aws:cdk:enable-asset-metadata": true },
      });
      const bundled = new KapaServiceStack(app, "KapaService");
      const cloudAssembly = app.synth();
      const assembled = cloudAssembly.getStackByName(bundled.stackName).template as {
        Resources: Record<string, CfnResource & { Metadata?: Record<string, string> }>;
      };
      const assetOf = (fn: KapaFunction) => {
        const id = bundled.getLogicalId(fn.function.node.defaultChild as CfnElement);
        const assetPath = assembled.Resources[id]?.Metadata?.["aws:asset:path"];
        if (!assetPath) throw new Error(`No asset for ${id}`);
        return path.join(outdir, assetPath);
      };

      const migrate = assetOf(bundled.migrations.handler);
      expect(existsSync(path.join(migrate, "index.mjs"))).toBe(true);
      expect(existsSync(path.join(migrate, "index.mjs.map"))).toBe(true);
      expect(existsSync(path.join(migrate, "drizzle", "meta", "_journal.json"))).toBe(true);
      const code = readFileSync(path.join(migrate, "index.mjs"), "utf8");
      expect(code.startsWith("import { createRequire as __kapaCreateRequire } from 'module';")).toBe(true);
      // The AWS SDK comes from the runtime, not the bundle (imported when first needed: shared/db/target.ts).
      expect(code).toMatch(/(from\s*|import\(\s*)["']@aws-sdk\/client-secrets-manager["']/);

      const docs = bundled.api.handlers.get("docs");
      if (!docs) throw new Error("No docs function");
      expect(existsSync(path.join(assetOf(docs), "redoc.standalone.js"))).toBe(true);
      const dashboard = bundled.api.handlers.get("dashboard");
      if (!dashboard) throw new Error("No dashboard function");
      for (const file of ["index.html", "app.js", "app.css"]) {
        expect(existsSync(path.join(assetOf(dashboard), "dashboard", file)), file).toBe(true);
      }
      // esbuild stays out of the Lambda: the local builder is loaded by a computed path only.
      expect(readFileSync(path.join(assetOf(dashboard), "index.mjs"), "utf8")).not.toContain("esbuild");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
