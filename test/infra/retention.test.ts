import type { CfnElement } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { VENDED_LOGS_PREFIX } from "../../infra/constructs/backfill.js";
import { DATABASE_ENGINE_VERSION } from "../../infra/constructs/database.js";
import { KapaFunction } from "../../infra/constructs/lambda.js";
import { props, synth } from "./support.js";

const { stack, idOf, resourcesOf } = synth();

/** Retention and placement of what the stack keeps: queues, their dead letters, and every log group. */
const queues = resourcesOf("AWS::SQS::Queue");
const SQS_DEFAULT_RETENTION = 4 * 86_400;
const retentionOf = (id: string) => Number(props(queues.get(id)).MessageRetentionPeriod ?? SQS_DEFAULT_RETENTION);

describe("retention", () => {
  it("keeps every dead-letter queue's messages longer than its source queue's (they keep their enqueue time)", () => {
    const redriven = [...queues].filter(([, q]) => props(q).RedrivePolicy);
    expect(redriven.length).toBeGreaterThanOrEqual(4); // live, backfill, reports, exports
    for (const [id, queue] of redriven) {
      const dlqId = (props(queue).RedrivePolicy as { deadLetterTargetArn: { "Fn::GetAtt": [string, string] } })
        .deadLetterTargetArn["Fn::GetAtt"][0];
      expect(retentionOf(dlqId), `${id} -> ${dlqId}`).toBeGreaterThan(retentionOf(id));
    }
  });

  it("gives CDK's helper functions (log retention, custom resource providers) a log group with the stack's retention", () => {
    const own = new Set(
      stack.node
        .findAll()
        .filter((c): c is KapaFunction => c instanceof KapaFunction)
        .map((f) => idOf(f.function.node.defaultChild as CfnElement)),
    );
    const logGroups = resourcesOf("AWS::Logs::LogGroup");
    const helpers = [...resourcesOf("AWS::Lambda::Function")].filter(([id]) => !own.has(id));
    // The log-retention setter and the providers of the migrations' trigger and the VPC's default security group.
    expect(helpers.length).toBeGreaterThanOrEqual(3);
    for (const [id, fn] of helpers) {
      const group = (props(fn).LoggingConfig as { LogGroup?: { Ref: string } } | undefined)?.LogGroup;
      expect(group, id).toEqual({ Ref: expect.any(String) });
      expect(props(logGroups.get(group?.Ref as string)).RetentionInDays, id).toBe(30);
    }
    // And every log group of the stack has a retention.
    for (const [id, group] of logGroups) expect(props(group).RetentionInDays, id).toBe(30);
  });

  it("names the state machine's log group under /aws/vendedlogs/states/", () => {
    const name = stack.resolve(
      (stack.backfill.logGroup.node.defaultChild as unknown as { logGroupName: unknown }).logGroupName,
    ) as string;
    expect(name.startsWith(VENDED_LOGS_PREFIX)).toBe(true);
    expect(name).toMatch(/^\/aws\/vendedlogs\/states\/KapaService-[A-Za-z0-9]+-executions$/);
  });

  it("runs a current Aurora PostgreSQL, one Aurora Serverless v2 supports (17.4 and higher)", () => {
    const [cluster] = resourcesOf("AWS::RDS::DBCluster").values();
    expect(props(cluster).EngineVersion).toBe(DATABASE_ENGINE_VERSION.auroraPostgresFullVersion);
    const [major, minor] = DATABASE_ENGINE_VERSION.auroraPostgresFullVersion.split(".").map(Number);
    expect(major).toBe(17);
    expect(minor).toBeGreaterThanOrEqual(4);
  });
});
