import { rmSync } from "node:fs";
import type { CfnElement } from "aws-cdk-lib";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { addNagChecks } from "../../infra/nag-suppressions.js";
import { KapaServiceStack } from "../../infra/stack.js";
import { only, props, resourcesIn, synth, testApp } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, template } = synth();

/** What the AWS Solutions pack reports, errors and warnings alike, as "severity rule: paths". */
function findings(scope: IConstruct, options: { ignoreAcknowledgments?: boolean } = {}) {
  const pack = new AwsSolutionsChecks();
  if (options.ignoreAcknowledgments) {
    // The pack's own check of the acknowledgment metadata, switched off to see every raw finding.
    (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  }
  return pack.validateScope(scope).violations;
}
const describeFindings = (violations: ReturnType<typeof findings>) =>
  violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`);

interface Acknowledgment {
  path: string;
  rule: string;
  reason: string;
}

/** Every acknowledgment recorded in the construct tree (Validations.of(x).acknowledge). */
function acknowledgments(root: IConstruct): Acknowledgment[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          rule: id.replace(/^annotation::/i, ""),
          reason,
        })),
      ),
  );
}

/** The AWS Solutions acknowledgments (CDK acknowledges some CloudFormation-Validate rules itself). */
const awsSolutionsAcknowledgments = (root: IConstruct) =>
  acknowledgments(root).filter((a) => a.rule.startsWith("AwsSolutions-"));

/** Acknowledgments that match no raw finding at or under their construct: to be removed. */
function staleAcknowledgments(root: IConstruct): string[] {
  const raw = findings(root, { ignoreAcknowledgments: true });
  return awsSolutionsAcknowledgments(root)
    .filter(
      (ack) =>
        !raw.some(
          (v) =>
            v.ruleName === ack.rule &&
            v.violatingResources.some(
              (r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`),
            ),
        ),
    )
    .map((ack) => `${ack.rule} at ${ack.path}`);
}

// Assess -------------------------------------------------------------------------------------

describe("cdk-nag AWS Solutions pack", () => {
  it("finds no unacknowledged error or warning in the stack", () => {
    expect(describeFindings(findings(stack))).toEqual([]);
  });

  it("acknowledges each finding in one justified line", () => {
    const acks = awsSolutionsAcknowledgments(stack);
    expect(acks.length).toBeGreaterThan(10);
    for (const ack of acks) {
      const where = `${ack.rule} at ${ack.path}`;
      expect(ack.rule, where).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length, where).toBeGreaterThan(20);
      expect(ack.reason.length, where).toBeLessThanOrEqual(200);
      expect(ack.reason, where).not.toMatch(/\n/);
    }
    expect(staleAcknowledgments(stack)).toEqual([]);
  });

  it.each([
    ["deletion protection on", { "kapa:dbDeletionProtection": true }],
    ["the dev profile (no RDS Proxy, Aurora at 0 ACUs)", { "kapa:profile": "dev" }],
    ["no reserved concurrency for the classifier", { "kapa:classifierReservedConcurrency": 0 }],
    ["tracing on", { "kapa:tracing": true }],
    ["no secret rotation", { "kapa:dbSecretRotationDays": 0 }],
    ["no per-key limits", { "kapa:perKeyRateLimit": 0 }],
    ["an alarm email", { "kapa:alarmEmail": "oncall@example.com" }],
    ["no WAF", { "kapa:waf": false }],
    ["the prod profile (WAF rule per key)", { "kapa:profile": "prod" }],
  ])("acknowledges exactly what it finds with %s too", (_, context) => {
    const variant = synth(context).stack;
    expect(describeFindings(findings(variant))).toEqual([]);
    expect(staleAcknowledgments(variant)).toEqual([]);
  });

  it("fails a synth on an unacknowledged error", () => {
    const app = new App();
    addNagChecks(app);
    new sqs.Queue(new Stack(app, "Insecure"), "Queue");
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it("fails a synth on an unacknowledged warning", () => {
    const app = new App();
    addNagChecks(app);
    new dynamodb.Table(new Stack(app, "NoRecovery"), "Table", {
      partitionKey: { name: "id", type: dynamodb.AttributeType.STRING },
    });
    expect(() => app.synth()).toThrow(/AwsSolutions-DDB3/);
  });

  it("lets the whole app synthesize with the checks on, as `npm run synth` does", () => {
    const app = testApp();
    addNagChecks(app);
    new KapaServiceStack(app, "KapaService");
    const assembly = app.synth();
    try {
      expect(assembly.getStackByName("KapaService").template).toBeDefined();
    } finally {
      rmSync(assembly.directory, { recursive: true, force: true });
    }
  });
});

const functions = [...resourcesIn(template, "AWS::Lambda::Function").entries()];
const envOf = (fn: (typeof functions)[number][1]) =>
  (props(fn).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
const secretRef = stack.resolve(stack.database.secret.secretArn) as unknown;
const appSecretRef = stack.resolve(stack.database.appSecret.secretArn) as unknown;
const migrateId = stack.getLogicalId(stack.migrations.handler.function.node.defaultChild as CfnElement);

describe("security review", () => {
  it("keeps secrets in Secrets Manager only: generated there, referenced by ARN", () => {
    // The owner's and the application's credentials, and the webhook message key.
    const secrets = [...resourcesIn(template, "AWS::SecretsManager::Secret").values()].map(props);
    expect(secrets).toHaveLength(3);
    for (const secret of secrets) {
      expect(secret.GenerateSecretString).toBeDefined();
      expect(secret.SecretString).toBeUndefined();
    }
    for (const [id, fn] of functions) {
      for (const [name, value] of Object.entries(envOf(fn))) {
        expect(name, id).not.toMatch(/PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_KEY$|SECRET(?!_ARN$)/i);
        const text = JSON.stringify(value);
        expect(text, `${id}.${name}`).not.toMatch(
          /kapa2?_[0-9a-f]{12}_|postgres(ql)?:\/\/[^:/]+:[^@/]+@|resolve:secretsmanager/,
        );
        if (name === "DB_SECRET_ARN") expect(value, id).toEqual(id === migrateId ? secretRef : appSecretRef);
      }
    }
    const outputs = JSON.stringify(template.toJSON().Outputs);
    expect(outputs).not.toMatch(/resolve:secretsmanager|SecretString/);
    template.resourceCountIs("AWS::SSM::Parameter", 0);
  });

  it("rotates the database credentials every 30 days, from inside the VPC", () => {
    const schedules = [...resourcesIn(template, "AWS::SecretsManager::RotationSchedule").values()].map(props);
    // The owner's (single user) and the application's (alternating users, with the owner's secret).
    expect(schedules.map((s) => s.SecretId)).toEqual([secretRef, appSecretRef]);
    for (const schedule of schedules) {
      expect(schedule.RotationRules).toEqual({ ScheduleExpression: "rate(30 days)" });
      expect(schedule.RotateImmediatelyOnUpdate).toBe(false);
    }
    const apps = [...resourcesIn(template, "AWS::Serverless::Application").values()].map(props);
    expect(apps).toHaveLength(2);
    for (const app of apps) expect(JSON.stringify(app.Parameters)).toContain("vpcSubnetIds");
    synth({ "kapa:dbSecretRotationDays": 0 }).template.resourceCountIs("AWS::SecretsManager::RotationSchedule", 0);
  });
});

describe("security review: transport and logs", () => {
  it("speaks TLS to the database: the proxy refuses plain connections", () => {
    const proxy = props(only(resourcesIn(template, "AWS::RDS::DBProxy").values(), "proxy"));
    expect(proxy.RequireTLS).toBe(true);
    expect(proxy.Auth).toEqual([
      expect.objectContaining({ AuthScheme: "SECRETS", IAMAuth: "DISABLED" }),
      expect.objectContaining({ AuthScheme: "SECRETS", IAMAuth: "DISABLED" }),
    ]);
  });

  it("writes no secret or key to the logs it configures", () => {
    const stage = props(only(resourcesIn(template, "AWS::ApiGateway::Stage").values(), "stage"));
    const accessLogFormat = (stage.AccessLogSetting as { Format: string }).Format;
    // No header, body, or authorizer context (which names the key) in the access log.
    expect(accessLogFormat).not.toMatch(/header|\$input|\$context\.authorizer|requestOverride/i);
    expect(stage.MethodSettings).toEqual([expect.objectContaining({ DataTraceEnabled: false, LoggingLevel: "ERROR" })]);
    for (const machine of resourcesIn(template, "AWS::StepFunctions::StateMachine").values()) {
      expect((props(machine).LoggingConfiguration as { IncludeExecutionData: boolean }).IncludeExecutionData).toBe(
        false,
      );
    }
    for (const [id, fn] of functions) {
      const level = envOf(fn).LOG_LEVEL;
      if (level !== undefined) expect(level, id).not.toBe("debug");
    }
  });

  it("logs the VPC's rejected connections, through a role only VPC Flow Logs of this account may assume", () => {
    const flowLog = props(only(resourcesIn(template, "AWS::EC2::FlowLog").values(), "flow log"));
    expect(flowLog).toMatchObject({
      ResourceType: "VPC",
      TrafficType: "REJECT",
      LogDestinationType: "cloud-watch-logs",
    });
    const groupId = (flowLog.LogGroupName as { Ref: string }).Ref;
    expect(props(resourcesIn(template, "AWS::Logs::LogGroup").get(groupId)).RetentionInDays).toBe(30);
    const roleId = (flowLog.DeliverLogsPermissionArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const trust = JSON.stringify(props(resourcesIn(template, "AWS::IAM::Role").get(roleId)).AssumeRolePolicyDocument);
    expect(trust).toContain("vpc-flow-logs.amazonaws.com");
    expect(trust).toContain("aws:SourceAccount");
  });
});
