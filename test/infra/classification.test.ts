import { type CfnElement, Stack } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { describe, expect, it } from "vitest";
import { Api } from "../../infra/constructs/api.js";
import { CLASSIFIER_VISIBILITY_TIMEOUT, Classification } from "../../infra/constructs/classification.js";
import { Database } from "../../infra/constructs/database.js";
import { KapaFunction } from "../../infra/constructs/lambda.js";
import { MAX_RECEIVE_COUNT, QueueConsumer, VISIBILITY_TIMEOUT_FACTOR } from "../../infra/constructs/queue-consumer.js";
import { DEFAULT_SETTINGS } from "../../infra/settings.js";
import { routeList } from "../../shared/http/routes.js";
import {
  asArray,
  envOf,
  fnLogicalIdOf,
  identityStatements,
  mentions,
  only,
  props,
  ref,
  resourcesIn,
  roleIdOf,
  type Statement,
  statementsOfRole,
  synth,
  testApp,
} from "./support.js";

// Prepare ------------------------------------------------------------------------------------

/** The API handlers that enqueue thread ids (the issue's contract), and nothing else of the API. */
const SENDER_HANDLERS = ["chat", "delete-category", "update-thread"];

const { stack, template } = synth();
const classification = stack.classification;

const idOf = (element: CfnElement) => stack.getLogicalId(element);
const queueId = idOf(classification.liveQueue.node.defaultChild as CfnElement);
const dlqId = idOf(classification.deadLetterQueue.node.defaultChild as CfnElement);
const classifierId = fnLogicalIdOf(stack, classification.classifier);
const sweeperId = fnLogicalIdOf(stack, classification.sweeper);
const handlerIds = new Map([...stack.api.handlers].map(([name, fn]) => [name, fnLogicalIdOf(stack, fn)]));
const handlerId = (name: string) => {
  const id = handlerIds.get(name);
  if (!id) throw new Error(`No API function for handler ${name}`);
  return id;
};
const senderIds = [...SENDER_HANDLERS.map(handlerId), sweeperId].sort();

const functions = resourcesIn(template, "AWS::Lambda::Function");
const queues = resourcesIn(template, "AWS::SQS::Queue");
const allMappings = resourcesIn(template, "AWS::Lambda::EventSourceMapping");
/** The classifier's event source mappings (the reports' sender has its own). */
const mappings = new Map([...allMappings].filter(([, m]) => mentions(props(m).FunctionName, classifierId)));
/** The schedule that invokes `fnId` (the reports have their own schedule). */
const scheduleOf = (t: Template, fnId: string) =>
  props(
    only(
      [...resourcesIn(t, "AWS::Scheduler::Schedule").values()].filter((s) => mentions(props(s).Target, fnId)),
      "schedule",
    ),
  );
const fnProps = (id: string) => props(functions.get(id));

/** An IAM action pattern (`sqs:Send*`, `*`) as a regular expression. */
const actionPattern = (action: string) =>
  new RegExp(`^${action.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`, "i");
const allows = (statement: Statement, action: string) =>
  statement.Effect === "Allow" && asArray(statement.Action).some((a) => actionPattern(a).test(action));
/** Does the statement's Resource cover this resource (by reference or by wildcard)? */
const covers = (statement: Statement, id: string) =>
  asArray(statement.Resource).some((r) => r === "*" || mentions(r, id) || (typeof r === "string" && r.includes("*")));

/** The functions whose roles may perform `action` on the resource `id`. */
function functionsAllowed(action: string, id: string): string[] {
  const roles = new Set(
    identityStatements(template)
      .filter(({ statement }) => allows(statement, action) && covers(statement, id))
      .flatMap(({ roles }) => roles),
  );
  const fnIds = [...functions.keys()].filter((fnId) => roles.has(roleIdOf(template, fnId)));
  const otherRoles = [...roles].filter((r) => !fnIds.some((fnId) => roleIdOf(template, fnId) === r));
  expect(otherRoles, `roles of no function allowed ${action}`).toEqual([]);
  return fnIds.sort();
}

// Assess -------------------------------------------------------------------------------------

describe("live queue", () => {
  const queue = props(queues.get(queueId));
  const dlq = props(queues.get(dlqId));

  it("is a standard queue that dead-letters a message after 5 receives", () => {
    expect(queue.FifoQueue).toBeUndefined();
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] },
      maxReceiveCount: 5,
    });
    expect(dlq.FifoQueue).toBeUndefined();
    expect(dlq.RedrivePolicy).toBeUndefined();
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it("keeps a message invisible for at least 6 x the classifier timeout", () => {
    const timeout = fnProps(classifierId).Timeout as number;
    expect(timeout).toBe(60);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    expect(queue.VisibilityTimeout).toBe(CLASSIFIER_VISIBILITY_TIMEOUT.toSeconds());
  });

  it("and its DLQ are encrypted with SQS-managed keys and refuse requests without TLS", () => {
    const policies = [...resourcesIn(template, "AWS::SQS::QueuePolicy").values()].map(props);
    for (const [id, p] of [
      [queueId, queue],
      [dlqId, dlq],
    ] as const) {
      expect(p.SqsManagedSseEnabled, id).toBe(true);
      expect(p.KmsMasterKeyId, id).toBeUndefined();
      const policy = only(
        policies.filter((q) => mentions(q.Queues, id)),
        `policy of ${id}`,
      );
      const statements = (policy.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(statements).toEqual([
        expect.objectContaining({
          Effect: "Deny",
          Action: "sqs:*",
          Principal: { AWS: "*" },
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ]);
    }
  });
});

describe("classifier", () => {
  it("consumes the live queue through one capped event source mapping with partial batch failures", () => {
    const onLiveQueue = [...mappings.values()].map(props).filter((m) => mentions(m.EventSourceArn, queueId));
    const mapping = only(onLiveQueue, "mapping of the live queue");
    expect(mapping.EventSourceArn).toEqual({ "Fn::GetAtt": [queueId, "Arn"] });
    expect(mapping.FunctionName).toEqual(ref(classifierId));
    expect(mapping.BatchSize).toBe(10);
    expect(mapping.MaximumBatchingWindowInSeconds).toBe(1);
    expect(mapping.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    expect(mapping.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(mapping.Enabled ?? true).toBe(true);
  });

  it("has every event source mapping of the stack capped, and the classifier reserves their sum, no less", () => {
    expect(mappings.size).toBeGreaterThan(0);
    for (const [id, m] of allMappings) {
      expect((props(m).ScalingConfig as { MaximumConcurrency?: number }).MaximumConcurrency, id).toBeGreaterThanOrEqual(
        2,
      );
    }
    const caps = [...mappings.values()].map(
      (m) => (props(m).ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
    );
    // The caps throttle nothing (live 5 + backfill 2), and no other function can take the classifier's share.
    expect(fnProps(classifierId).ReservedConcurrentExecutions).toBe(7);
    expect(fnProps(classifierId).ReservedConcurrentExecutions).toBeGreaterThanOrEqual(caps.reduce((a, b) => a + b, 0));
    for (const [id, fn] of functions) {
      if (id !== classifierId) expect(props(fn).ReservedConcurrentExecutions, id).toBeUndefined();
    }
  });

  it("refuses at synth a reservation below the sum of the caps", () => {
    expect(() => synth({ "kapa:classifierReservedConcurrency": 6 })).toThrow(
      /kapa:classifierReservedConcurrency: 6 is below the sum of the classifier's event source caps \(7\)/,
    );
    const raised = synth({ "kapa:classifierMaxConcurrency": 20, "kapa:classifierReservedConcurrency": 22 });
    const id = fnLogicalIdOf(raised.stack, raised.stack.classification.classifier);
    expect(props(resourcesIn(raised.template, "AWS::Lambda::Function").get(id)).ReservedConcurrentExecutions).toBe(22);
  });

  it("uses the database and gets its delay, but not the queue URL", () => {
    const env = envOf(template, classifierId);
    expect(env.CLASSIFIER_DELAY_MS).toBe("2000");
    expect(env.DB_SECRET_ARN).toEqual(stack.resolve(stack.database.appSecret.secretArn));
    expect(env.CLASSIFICATION_QUEUE_URL).toBeUndefined();
    expect(fnProps(classifierId).VpcConfig).toBeDefined();
  });

  it("takes a second queue with its own, lower cap (the backfill's)", () => {
    const backfill = stack.backfill.queue;
    const backfillId = idOf(backfill.queue.node.defaultChild as CfnElement);
    const caps = [...mappings.values()]
      .map(props)
      .map((m) => ({
        queue: mentions(m.EventSourceArn, backfillId) ? "backfill" : mentions(m.EventSourceArn, queueId) ? "live" : "?",
        cap: (m.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
        fn: m.FunctionName,
        report: m.FunctionResponseTypes,
      }))
      .sort((a, b) => a.queue.localeCompare(b.queue));
    expect(caps).toEqual([
      { queue: "backfill", cap: 2, fn: ref(classifierId), report: ["ReportBatchItemFailures"] },
      { queue: "live", cap: 5, fn: ref(classifierId), report: ["ReportBatchItemFailures"] },
    ]);
    // No age alarm on a backfill queue unless asked for; a DLQ alarm always.
    expect(backfill.alarms).toEqual([backfill.deadLetterDepthAlarm]);
  });

  it("gives every consumed queue (live, backfill, reports, exports) VISIBILITY_TIMEOUT_FACTOR x its consumer's timeout", () => {
    const consumers = stack.node.findAll().filter((c): c is QueueConsumer => c instanceof QueueConsumer);
    expect(consumers.map((c) => c.node.path).sort()).toEqual([
      "KapaService/Backfill/Queue",
      "KapaService/Classification/Live",
      "KapaService/Exports/Jobs",
      "KapaService/Reports/Jobs",
    ]);
    for (const consumer of consumers) {
      const mapping = props(
        only(
          [...allMappings.values()].filter((m) =>
            mentions(props(m).EventSourceArn, idOf(consumer.queue.node.defaultChild as CfnElement)),
          ),
          "mapping",
        ),
      );
      const fnId = (mapping.FunctionName as { Ref: string }).Ref;
      const queueProps = props(queues.get(idOf(consumer.queue.node.defaultChild as CfnElement)));
      expect(queueProps.VisibilityTimeout).toBe((fnProps(fnId).Timeout as number) * VISIBILITY_TIMEOUT_FACTOR);
      expect((queueProps.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
      expect(mapping.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    }
  });
});

describe("sweeper", () => {
  it("runs every 5 minutes on an EventBridge Scheduler schedule that invokes it", () => {
    const schedule = scheduleOf(template, sweeperId);
    expect(schedule.ScheduleExpression).toBe("rate(5 minutes)");
    expect(schedule.State ?? "ENABLED").toBe("ENABLED");
    const target = schedule.Target as { Arn: unknown; RoleArn: { "Fn::GetAtt": [string, string] } };
    expect(target.Arn).toEqual({ "Fn::GetAtt": [sweeperId, "Arn"] });
  });

  it("the schedule's role, assumed by Scheduler only, may invoke the sweeper and nothing else", () => {
    const schedule = scheduleOf(template, sweeperId);
    const roleId = (schedule.Target as { RoleArn: { "Fn::GetAtt": [string, string] } }).RoleArn["Fn::GetAtt"][0];
    const role = props(resourcesIn(template, "AWS::IAM::Role").get(roleId));
    const trust = (role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    expect(trust).toEqual([
      expect.objectContaining({ Action: "sts:AssumeRole", Principal: { Service: "scheduler.amazonaws.com" } }),
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    const statements = statementsOfRole(template, roleId);
    expect(statements.length).toBeGreaterThan(0);
    const lostRunsId = idOf(classification.sweeperLostRuns.queue.node.defaultChild as CfnElement);
    for (const statement of statements) {
      expect(statement.Effect).toBe("Allow");
      if (asArray(statement.Action).includes("sqs:SendMessage")) {
        // Its dead-letter queue: the runs it could not start.
        expect(asArray(statement.Action)).toEqual(["sqs:SendMessage"]);
        expect(mentions(statement.Resource, lostRunsId)).toBe(true);
        continue;
      }
      expect(asArray(statement.Action)).toEqual(["lambda:InvokeFunction"]);
      for (const resource of asArray(statement.Resource)) {
        expect(mentions(resource, sweeperId), JSON.stringify(resource)).toBe(true);
        for (const other of functions.keys()) if (other !== sweeperId) expect(mentions(resource, other)).toBe(false);
      }
    }
    expect((schedule.Target as { DeadLetterConfig?: { Arn: unknown } }).DeadLetterConfig?.Arn).toEqual({
      "Fn::GetAtt": [lostRunsId, "Arn"],
    });
  });

  it("gets the database, the queue URL and its limits; a failed run waits for the next one", () => {
    const env = envOf(template, sweeperId);
    expect(env.CLASSIFICATION_QUEUE_URL).toEqual(ref(queueId));
    expect(env.SWEEPER_GRACE_SECONDS).toBe("300");
    expect(env.SWEEPER_MAX_THREADS).toBe("10000");
    expect(env.SWEEPER_LOOKBACK_HOURS).toBe("24");
    expect(env.DB_SECRET_ARN).toEqual(stack.resolve(stack.database.appSecret.secretArn));
    expect(fnProps(sweeperId).Timeout).toBeLessThan(5 * 60);
    const invokeConfig = props(
      only(
        [...resourcesIn(template, "AWS::Lambda::EventInvokeConfig").values()].filter((c) =>
          mentions(props(c).FunctionName, sweeperId),
        ),
        "invoke config",
      ),
    );
    expect(invokeConfig.FunctionName).toEqual(ref(sweeperId));
    expect(invokeConfig.MaximumRetryAttempts).toBe(0);
  });
});

describe("alarms", () => {
  const alarms = [...resourcesIn(template, "AWS::CloudWatch::Alarm").entries()];
  const alarmOn = (metric: string, queue: string) =>
    props(
      only(
        alarms.filter(([, a]) => props(a).MetricName === metric && mentions(props(a).Dimensions, queue)),
        `${metric} alarm`,
      )[1],
    );

  it("fire on any message in the DLQ", () => {
    expect(alarmOn("ApproximateNumberOfMessagesVisible", dlqId)).toMatchObject({
      Namespace: "AWS/SQS",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 1,
    });
  });

  it("fire when the live queue's oldest message is older than 15 minutes", () => {
    expect(alarmOn("ApproximateAgeOfOldestMessage", queueId)).toMatchObject({
      Namespace: "AWS/SQS",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [queueId, "QueueName"] } }],
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 900,
    });
  });

  it("are exposed for the observability construct", () => {
    const ids = classification.alarms.map((a) => idOf(a.node.defaultChild as CfnElement)).sort();
    const lostRunsId = idOf(classification.sweeperLostRuns.queue.node.defaultChild as CfnElement);
    const expected = alarms
      .filter(([, a]) => [queueId, dlqId, lostRunsId].some((id) => mentions(props(a).Dimensions, id)))
      .map(([id]) => id)
      .sort();
    expect(ids).toEqual(expected);
    expect(ids).toHaveLength(3);
  });
});

describe("IAM least privilege on the queues", () => {
  it("lets only chat, update-thread, delete-category and the sweeper send to the live queue", () => {
    expect(senderIds).toHaveLength(4);
    expect(functionsAllowed("sqs:SendMessage", queueId)).toEqual(senderIds);
  });

  it("lets the classifier receive and delete (through its event source), never send", () => {
    for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]) {
      expect(functionsAllowed(action, queueId), action).toEqual([classifierId]);
    }
    const classifierStatements = statementsOfRole(template, roleIdOf(template, classifierId));
    expect(classifierStatements.some((s) => allows(s, "sqs:SendMessage"))).toBe(false);
  });

  it("grants nobody anything on the DLQ (only SQS's redrive writes to it)", () => {
    for (const { statement } of identityStatements(template)) {
      expect(mentions(statement.Resource, dlqId), JSON.stringify(statement)).toBe(false);
    }
  });

  it("has no sqs:* or SQS action on Resource * in any identity policy", () => {
    const sqsStatements = identityStatements(template).filter(({ statement }) =>
      asArray(statement.Action).some((a) => a.toLowerCase().startsWith("sqs:") || a === "*"),
    );
    expect(sqsStatements.length).toBeGreaterThan(0);
    for (const { statement } of sqsStatements) {
      for (const action of asArray(statement.Action)) expect(action).not.toMatch(/\*/);
      for (const resource of asArray(statement.Resource)) expect(resource).not.toBe("*");
    }
    // Every SQS statement that names the live queue names nothing else (but the backfill queue
    // the classifier also consumes).
    const backfillQueueId = idOf(stack.backfill.queue.queue.node.defaultChild as CfnElement);
    for (const { statement } of sqsStatements.filter(({ statement }) => mentions(statement.Resource, queueId))) {
      for (const resource of asArray(statement.Resource)) {
        expect(mentions(resource, queueId) || mentions(resource, backfillQueueId), JSON.stringify(resource)).toBe(true);
      }
    }
  });

  it("sets CLASSIFICATION_QUEUE_URL on exactly the senders", () => {
    const withUrl = [...functions.keys()].filter((id) => envOf(template, id).CLASSIFICATION_QUEUE_URL !== undefined);
    expect(withUrl.sort()).toEqual(senderIds);
    for (const id of withUrl) expect(envOf(template, id).CLASSIFICATION_QUEUE_URL, id).toEqual(ref(queueId));
  });
});

describe("network", () => {
  it("gives the functions an SQS interface endpoint they may reach on 443", () => {
    const endpoint = props(
      only(
        [...resourcesIn(template, "AWS::EC2::VPCEndpoint").values()].filter((e) =>
          JSON.stringify(props(e).ServiceName).includes(".sqs"),
        ),
        "SQS endpoint",
      ),
    );
    expect(endpoint.VpcEndpointType).toBe("Interface");
    expect(endpoint.PrivateDnsEnabled).toBe(true);
    const endpointSgIds = (endpoint.SecurityGroupIds as { "Fn::GetAtt": [string, string] }[]).map(
      (g) => g["Fn::GetAtt"][0],
    );
    const functionSgId = idOf(stack.database.functionSecurityGroup.node.defaultChild as CfnElement);
    const ingress = [...resourcesIn(template, "AWS::EC2::SecurityGroupIngress").values()].map(props);
    expect(
      ingress.some(
        (i) =>
          endpointSgIds.some((sg) => mentions(i.GroupId, sg)) &&
          mentions(i.SourceSecurityGroupId, functionSgId) &&
          i.FromPort === 443 &&
          i.ToPort === 443,
      ),
    ).toBe(true);
    for (const id of [...senderIds, classifierId]) {
      const vpc = fnProps(id).VpcConfig as { SecurityGroupIds: unknown[] };
      expect(vpc.SecurityGroupIds, id).toEqual([{ "Fn::GetAtt": [functionSgId, "GroupId"] }]);
    }
  });
});

describe("settings", () => {
  it("come from the context", () => {
    const custom = synth({
      "kapa:classifierMaxConcurrency": "3",
      "kapa:classifierBatchSize": 4,
      "kapa:classifierBatchingWindowSeconds": 0,
      "kapa:classifierDelayMs": 500,
      "kapa:sweeperIntervalMinutes": 15,
      "kapa:sweeperGraceSeconds": 60,
      "kapa:sweeperMaxThreads": 50,
      "kapa:sweeperLookbackHours": 48,
      "kapa:queueAgeAlarmSeconds": 600,
    });
    const t = custom.template;
    const customClassifierId = fnLogicalIdOf(custom.stack, custom.stack.classification.classifier);
    const mapping = props(
      only(
        [...resourcesIn(t, "AWS::Lambda::EventSourceMapping").values()].filter(
          (m) =>
            mentions(props(m).FunctionName, customClassifierId) &&
            mentions(
              props(m).EventSourceArn,
              custom.stack.getLogicalId(custom.stack.classification.liveQueue.node.defaultChild as CfnElement),
            ),
        ),
        "mapping",
      ),
    );
    expect(mapping).toMatchObject({
      BatchSize: 4,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    const schedule = scheduleOf(t, fnLogicalIdOf(custom.stack, custom.stack.classification.sweeper));
    expect(schedule.ScheduleExpression).toBe("rate(15 minutes)");
    const c = custom.stack.classification;
    expect(envOf(t, fnLogicalIdOf(custom.stack, c.classifier)).CLASSIFIER_DELAY_MS).toBe("500");
    expect(envOf(t, fnLogicalIdOf(custom.stack, c.sweeper))).toMatchObject({
      SWEEPER_GRACE_SECONDS: "60",
      SWEEPER_MAX_THREADS: "50",
      SWEEPER_LOOKBACK_HOURS: "48",
    });
    const ageAlarm = [...resourcesIn(t, "AWS::CloudWatch::Alarm").values()]
      .map(props)
      .find((a) => a.MetricName === "ApproximateAgeOfOldestMessage");
    expect(ageAlarm?.Threshold).toBe(600);
  });

  it("default to the schema's values, which cdk.json restates", () => {
    expect(stack.settings).toEqual(DEFAULT_SETTINGS);
  });

  it("are rejected at synth when AWS or the design would not take them", () => {
    expect(() => synth({ "kapa:classifierMaxConcurrency": 1 })).toThrow(/kapa:classifierMaxConcurrency/);
    expect(() => synth({ "kapa:classifierMaxConcurrency": 1001 })).toThrow(/kapa:classifierMaxConcurrency/);
    expect(() => synth({ "kapa:classifierBatchSize": 11 })).toThrow(/kapa:classifierBatchSize/);
    expect(() => synth({ "kapa:classifierBatchingWindowSeconds": 301 })).toThrow(
      /kapa:classifierBatchingWindowSeconds/,
    );
    expect(() => synth({ "kapa:sweeperIntervalMinutes": 0 })).toThrow(/kapa:sweeperIntervalMinutes/);
    expect(() => synth({ "kapa:sweeperMaxThreads": "many" })).toThrow(/kapa:sweeperMaxThreads/);
    expect(() => synth({ "kapa:queueAgeAlarmSeconds": 30 })).toThrow(/kapa:queueAgeAlarmSeconds/);
  });
});

describe("API wiring", () => {
  it("refuses handler options for a handler that no route uses", () => {
    const stackWithout = new Stack(testApp(), "Partial");
    const database = new Database(stackWithout, "Database", { settings: DEFAULT_SETTINGS });
    const pipeline = new Classification(stackWithout, "Classification", { database, settings: DEFAULT_SETTINGS });
    const routes = routeList.filter((r) => r.handler !== "delete-category");
    expect(
      () => new Api(stackWithout, "Api", { routes, database, classification: pipeline, settings: DEFAULT_SETTINGS }),
    ).toThrow(/delete-category/);
  });

  it("refuses a sender in the VPC that the SQS endpoint does not admit", () => {
    const other = new Stack(testApp(), "Other");
    const database = new Database(other, "Database", { settings: DEFAULT_SETTINGS });
    const pipeline = new Classification(other, "Classification", { database, settings: DEFAULT_SETTINGS });
    const stranger = new KapaFunction(other, "Stranger", {
      entry: "chat",
      settings: DEFAULT_SETTINGS,
      network: {
        vpc: database.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [new ec2.SecurityGroup(other, "StrangerGroup", { vpc: database.vpc })],
      },
    });
    expect(() => pipeline.bindSender(stranger)).toThrow(/cannot reach the SQS endpoint/);
  });
});
