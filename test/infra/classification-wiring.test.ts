import { Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { describe, expect, it } from "vitest";
import { Api } from "../../infra/constructs/api.js";
import { Classification } from "../../infra/constructs/classification.js";
import { Database } from "../../infra/constructs/database.js";
import { KapaFunction } from "../../infra/constructs/lambda.js";
import { DEFAULT_SETTINGS } from "../../infra/settings.js";
import { routeList } from "../../shared/http/routes.js";
import * as fixture from "./classification-fixture.js";
import { asArray, mentions, only, props, ref, resourcesIn, synth, testApp } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, idOf, envOf, resourcesOf, roleIdOf, statementsOfRole, identityStatements } = synth();

// Assess -------------------------------------------------------------------------------------

describe("IAM least privilege on the queues", () => {
  it("lets only chat, update-thread and the sweeper send to the live queue (a deleted category's threads are backlog)", () => {
    expect(fixture.senderIds).toHaveLength(3);
    expect(fixture.functionsAllowed("sqs:SendMessage", fixture.queueId)).toEqual(fixture.senderIds);
  });

  it("lets the classifier receive and delete (through its event source), never send", () => {
    for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]) {
      expect(fixture.functionsAllowed(action, fixture.queueId), action).toEqual([fixture.classifierId]);
    }
    const classifierStatements = statementsOfRole(roleIdOf(fixture.classifierId));
    expect(classifierStatements.some((s) => fixture.allows(s, "sqs:SendMessage"))).toBe(false);
  });

  it("grants nobody anything on the DLQ (only SQS's redrive writes to it)", () => {
    for (const { statement } of identityStatements()) {
      expect(mentions(statement.Resource, fixture.dlqId), JSON.stringify(statement)).toBe(false);
    }
  });

  it("has no sqs:* or SQS action on Resource * in any identity policy", () => {
    const sqsStatements = identityStatements().filter(({ statement }) =>
      asArray(statement.Action).some((a) => a.toLowerCase().startsWith("sqs:") || a === "*"),
    );
    expect(sqsStatements.length).toBeGreaterThan(0);
    for (const { statement } of sqsStatements) {
      for (const action of asArray(statement.Action)) expect(action).not.toMatch(/\*/);
      for (const resource of asArray(statement.Resource)) expect(resource).not.toBe("*");
    }
    // Every SQS statement that names the live queue names nothing else (but the backfill queue
    // the classifier also consumes).
    const backfillQueueId = idOf(stack.backfill.queue.queue);
    for (const { statement } of sqsStatements.filter(({ statement }) =>
      mentions(statement.Resource, fixture.queueId),
    )) {
      for (const resource of asArray(statement.Resource)) {
        expect(
          mentions(resource, fixture.queueId) || mentions(resource, backfillQueueId),
          JSON.stringify(resource),
        ).toBe(true);
      }
    }
  });

  it("sets CLASSIFICATION_QUEUE_URL on exactly the senders", () => {
    const withUrl = [...fixture.functions.keys()].filter((id) => envOf(id).CLASSIFICATION_QUEUE_URL !== undefined);
    expect(withUrl.sort()).toEqual(fixture.senderIds);
    for (const id of withUrl) expect(envOf(id).CLASSIFICATION_QUEUE_URL, id).toEqual(ref(fixture.queueId));
  });
});

describe("network", () => {
  it("gives the functions an SQS interface endpoint they may reach on 443", () => {
    const endpoint = props(
      only(
        [...resourcesOf("AWS::EC2::VPCEndpoint").values()].filter((e) =>
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
    const functionSgId = idOf(stack.database.functionSecurityGroup);
    const ingress = [...resourcesOf("AWS::EC2::SecurityGroupIngress").values()].map(props);
    expect(
      ingress.some(
        (i) =>
          endpointSgIds.some((sg) => mentions(i.GroupId, sg)) &&
          mentions(i.SourceSecurityGroupId, functionSgId) &&
          i.FromPort === 443 &&
          i.ToPort === 443,
      ),
    ).toBe(true);
    for (const id of [...fixture.senderIds, fixture.classifierId]) {
      const vpc = fixture.fnProps(id).VpcConfig as { SecurityGroupIds: unknown[] };
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
    const customClassifierId = custom.fnId(custom.stack.classification.classifier);
    const mapping = props(
      only(
        [...resourcesIn(t, "AWS::Lambda::EventSourceMapping").values()].filter(
          (m) =>
            mentions(props(m).FunctionName, customClassifierId) &&
            mentions(props(m).EventSourceArn, custom.idOf(custom.stack.classification.liveQueue)),
        ),
        "mapping",
      ),
    );
    expect(mapping).toMatchObject({
      BatchSize: 4,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    const schedule = fixture.scheduleOf(t, custom.fnId(custom.stack.classification.sweeper));
    expect(schedule.ScheduleExpression).toBe("rate(15 minutes)");
    const c = custom.stack.classification;
    expect(custom.envOf(custom.fnId(c.classifier)).CLASSIFIER_DELAY_MS).toBe("500");
    expect(custom.envOf(custom.fnId(c.sweeper))).toMatchObject({
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
    const routes = routeList.filter((r) => r.handler !== "update-thread");
    expect(
      () => new Api(stackWithout, "Api", { routes, database, classification: pipeline, settings: DEFAULT_SETTINGS }),
    ).toThrow(/update-thread/);
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
