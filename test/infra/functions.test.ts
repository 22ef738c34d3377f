import type { CfnElement } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { DATABASE_NAME } from "../../infra/constructs/database.js";
import { LAMBDA_RUNTIME, VPC_ENI_ACTIONS } from "../../infra/constructs/lambda.js";
import * as fixture from "./stack-fixture.js";
import { asArray, props, synth } from "./support.js";

const { stack, idOf, fnId, resourcesOf, roleIdOf, statementsOfRole, identityStatements } = synth();

const messageKeyRef = stack.resolve(stack.webhooks.messageKey.secretArn) as unknown;

// Assess -------------------------------------------------------------------------------------

const functions = resourcesOf("AWS::Lambda::Function");
/** The one logging grant of a function: its own log group (and its streams), nothing else. */
const ownLogsStatement = (fn: (typeof fixture.appFunctions)[number]) => ({
  Effect: "Allow",
  Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
  Resource: { "Fn::GetAtt": [idOf(fn.logGroup.node.defaultChild as CfnElement), "Arn"] },
});
const isEniStatement = (s: { Action: string | string[] }) =>
  asArray(s.Action).every((a) => VPC_ENI_ACTIONS.includes(a));
const appIds = fixture.appFunctions.map(fnId);

describe("Lambda functions", () => {
  it("are one per distinct handler, plus the authorizer, the migrator, the classifier, the sweeper, the report planner and sender, the backfill tasks, the export worker and the webhook dispatcher, sender and recorder", () => {
    expect(fixture.appFunctions).toHaveLength(fixture.handlerNames.length + 12);
    expect(new Set(appIds)).toEqual(
      new Set([
        ...[...fixture.functionsByHandler.values()].map(fnId),
        fixture.authorizerFnId,
        fixture.migrateFnId,
        fixture.classifierFnId,
        fixture.sweeperFnId,
        fnId(stack.reports.planner),
        fnId(stack.reports.sender),
        ...fixture.backfillFnIds,
        fnId(stack.exports.worker),
        fnId(stack.webhooks.dispatcher),
        fnId(stack.webhooks.sender),
        fnId(stack.webhooks.recorder),
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
      expect(p.Timeout, id).toBeLessThanOrEqual(id === fnId(stack.exports.worker) ? 900 : 300);
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.NODE_OPTIONS, id).toBe("--enable-source-maps");
      expect(env.LOG_LEVEL, id).toBe("info");
      const logGroupId = (p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(props(logGroups.get(logGroupId) ?? { Type: "" }).RetentionInDays, id).toBe(30);
    }
  });

  it("that use the database get its env and run in its security group", () => {
    expect(fixture.dbFunctionIds).toHaveLength(fixture.handlerNames.length - fixture.STATIC_HANDLERS.length + 6);
    for (const id of fixture.dbFunctionIds) {
      const p = props(functions.get(id) ?? { Type: "" });
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.DB_SECRET_ARN, id).toEqual(fixture.secretOf(id));
      expect(env.DB_HOST, id).toEqual(fixture.proxyEndpoint);
      expect(env.DB_NAME, id).toBe(DATABASE_NAME);
      expect(["1", "2"], id).toContain(env.DB_POOL_MAX);
      const vpc = p.VpcConfig as { SecurityGroupIds: unknown[]; SubnetIds: unknown[] };
      expect(vpc.SecurityGroupIds, id).toEqual([{ "Fn::GetAtt": [fixture.functionSgId, "GroupId"] }]);
      expect(vpc.SubnetIds, id).toHaveLength(2);
    }
  });
});

/** The handler's function and its environment, once checked to have no database access. */
function withoutDatabase(handler: string) {
  const fn = fixture.functionsByHandler.get(handler);
  if (!fn) throw new Error(`No ${handler} function`);
  const p = props(functions.get(fnId(fn)) ?? { Type: "" });
  const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
  expect(Object.keys(env).filter((k) => k.startsWith("DB_"))).toEqual([]);
  expect(p.VpcConfig).toBeUndefined();
  return { fn, env };
}

describe("Lambda functions without the database, and names", () => {
  it("the docs function ships Redoc and has no database access", () => {
    expect(withoutDatabase("docs").env.REDOC_SCRIPT_PATH).toBe("/var/task/redoc.standalone.js");
  });

  it("the dashboard function ships its built page, script and styles and has no database access", () => {
    const { fn: dashboard, env } = withoutDatabase("dashboard");
    expect(env.DASHBOARD_ASSETS_DIR).toBe("/var/task/dashboard");
    expect(statementsOfRole(roleIdOf(fnId(dashboard)))).toEqual([ownLogsStatement(dashboard)]);
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
    const executionLogsId = idOf(stack.api.executionLogs.node.defaultChild as CfnElement);
    // Step Functions' log group is named under /aws/vendedlogs/ (with the stack's name and a unique id).
    const vendedLogsId = idOf(stack.backfill.logGroup.node.defaultChild as CfnElement);
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
        if (id === executionLogsId || id === vendedLogsId) continue;
        expect(props(resource)[property], `${id}.${property}`).toBeUndefined();
      }
    }
  });
});

describe("IAM least privilege", () => {
  const allStatements = identityStatements().map((s) => s.statement);

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

  it("scopes secret and database actions to the database secrets or the webhook message key, never *", () => {
    const sensitive = allStatements.filter((s) =>
      asArray(s.Action).some((a) => a.startsWith("secretsmanager:") || a.startsWith("rds-db:")),
    );
    // The proxy's role and every database function read the secret.
    expect(sensitive.length).toBeGreaterThanOrEqual(fixture.dbFunctionIds.length + 1);
    for (const statement of sensitive) {
      for (const resource of asArray(statement.Resource)) {
        expect([fixture.secretRef, fixture.appSecretRef, messageKeyRef]).toContainEqual(resource);
      }
      for (const action of asArray(statement.Action)) {
        expect(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]).toContain(action);
      }
    }
  });

  it("gives each database function read access to the secret, and nothing on *", () => {
    for (const id of fixture.dbFunctionIds) {
      const statements = statementsOfRole(roleIdOf(id));
      // The webhook message key and its readers are test/infra/webhooks.test.ts's.
      const secretStatements = statements
        .filter((s) => asArray(s.Action).some((a) => a.startsWith("secretsmanager:")))
        .map((s) => {
          const resources = asArray(s.Resource).filter((r) => JSON.stringify(r) !== JSON.stringify(messageKeyRef));
          return { ...s, Resource: resources.length === 1 ? resources[0] : resources };
        })
        .filter((s) => asArray(s.Resource).length > 0);
      const read = (resource: unknown) => ({
        Effect: "Allow",
        Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        Resource: resource,
      });
      // The migrations read the owner's secret and the application's (to create its login); the rest, the application's.
      const expected =
        id === fixture.migrateFnId ? [read([fixture.appSecretRef, fixture.secretRef])] : [read(fixture.appSecretRef)];
      expect(secretStatements, id).toEqual(expected);
      // On *: only Lambda's network interface actions, which take no resource-level permissions.
      for (const statement of statements.filter((s) => !isEniStatement(s))) {
        expect(asArray(statement.Resource), id).not.toContain("*");
      }
    }
  });

  it("gives the docs function no policy beyond writing to its own log group", () => {
    const docs = fixture.functionsByHandler.get("docs");
    if (!docs) throw new Error("No docs function");
    expect(statementsOfRole(roleIdOf(fnId(docs)))).toEqual([ownLogsStatement(docs)]);
  });

  it("lets every function write to its own log group only: no managed policy, no logs action elsewhere", () => {
    for (const fn of fixture.appFunctions) {
      const roleId = roleIdOf(fnId(fn));
      expect(props(resourcesOf("AWS::IAM::Role").get(roleId)).ManagedPolicyArns, fn.node.path).toBeUndefined();
      const logging = statementsOfRole(roleId).filter((s) => asArray(s.Action).some((a) => a.startsWith("logs:")));
      expect(logging, fn.node.path).toEqual([ownLogsStatement(fn)]);
      const eni = statementsOfRole(roleId).filter(isEniStatement);
      expect(eni, fn.node.path).toHaveLength(fn.function.isBoundToVpc ? 1 : 0);
    }
  });
});
