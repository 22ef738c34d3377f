import { describe, expect, it } from "vitest";
import {
  CLASSIFIER_VECTORS_FILE,
  CLASSIFIER_VECTORS_PATH,
  CLASSIFIER_VISIBILITY_TIMEOUT,
} from "../../infra/constructs/classification.js";
import { MAX_RECEIVE_COUNT, QueueConsumer, VISIBILITY_TIMEOUT_FACTOR } from "../../infra/constructs/queue-consumer.js";
import * as fixture from "./classification-fixture.js";
import { mentions, only, props, ref, type Statement, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const defaultStack = synth();
const { stack, template, idOf, envOf, resourcesOf, propsMentioning } = defaultStack;
const { expectEncryptedTlsOnlyQueues, expectScheduleRoleInvokesOnly } = defaultStack;

// Assess -------------------------------------------------------------------------------------

describe("live queue", () => {
  const queue = props(fixture.queues.get(fixture.queueId));
  const dlq = props(fixture.queues.get(fixture.dlqId));

  it("is a standard queue that dead-letters a message after 5 receives", () => {
    expect(queue.FifoQueue).toBeUndefined();
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [fixture.dlqId, "Arn"] },
      maxReceiveCount: 5,
    });
    expect(dlq.FifoQueue).toBeUndefined();
    expect(dlq.RedrivePolicy).toBeUndefined();
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it("keeps a message invisible for at least 6 x the classifier timeout", () => {
    const timeout = fixture.fnProps(fixture.classifierId).Timeout as number;
    expect(timeout).toBe(60);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    expect(queue.VisibilityTimeout).toBe(CLASSIFIER_VISIBILITY_TIMEOUT.toSeconds());
  });

  it("and its DLQ are encrypted with SQS-managed keys and refuse requests without TLS", () => {
    expectEncryptedTlsOnlyQueues([fixture.queueId, fixture.dlqId]);
  });
});

describe("classifier", () => {
  it("consumes the live queue through one capped event source mapping with partial batch failures", () => {
    const onLiveQueue = [...fixture.mappings.values()]
      .map(props)
      .filter((m) => mentions(m.EventSourceArn, fixture.queueId));
    const mapping = only(onLiveQueue, "mapping of the live queue");
    expect(mapping.EventSourceArn).toEqual({ "Fn::GetAtt": [fixture.queueId, "Arn"] });
    expect(mapping.FunctionName).toEqual(ref(fixture.classifierId));
    expect(mapping.BatchSize).toBe(10);
    expect(mapping.MaximumBatchingWindowInSeconds).toBe(1);
    expect(mapping.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    expect(mapping.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(mapping.Enabled ?? true).toBe(true);
  });

  it("has every event source mapping of the stack capped, and the classifier reserves their sum, no less", () => {
    expect(fixture.mappings.size).toBeGreaterThan(0);
    for (const [id, m] of fixture.allMappings) {
      expect((props(m).ScalingConfig as { MaximumConcurrency?: number }).MaximumConcurrency, id).toBeGreaterThanOrEqual(
        2,
      );
    }
    const caps = [...fixture.mappings.values()].map(
      (m) => (props(m).ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
    );
    // The caps throttle nothing (live 5 + backfill 2), and no other function can take the classifier's share.
    expect(fixture.fnProps(fixture.classifierId).ReservedConcurrentExecutions).toBe(7);
    expect(fixture.fnProps(fixture.classifierId).ReservedConcurrentExecutions).toBeGreaterThanOrEqual(
      caps.reduce((a, b) => a + b, 0),
    );
    for (const [id, fn] of fixture.functions) {
      if (id !== fixture.classifierId) expect(props(fn).ReservedConcurrentExecutions, id).toBeUndefined();
    }
  });

  it("refuses at synth a reservation below the sum of the caps", () => {
    expect(() => synth({ "kapa:classifierReservedConcurrency": 6 })).toThrow(
      /kapa:classifierReservedConcurrency: 6 is below the sum of the classifier's event source caps \(7\)/,
    );
    const raised = synth({ "kapa:classifierMaxConcurrency": 20, "kapa:classifierReservedConcurrency": 22 });
    const id = raised.fnId(raised.stack.classification.classifier);
    expect(props(raised.resourcesOf("AWS::Lambda::Function").get(id)).ReservedConcurrentExecutions).toBe(22);
  });

  it("reserves nothing with kapa:classifierReservedConcurrency=0 (an account whose quota cannot spare any), caps kept", () => {
    const off = synth({ "kapa:classifierReservedConcurrency": "0" });
    for (const [, fn] of off.resourcesOf("AWS::Lambda::Function")) {
      expect(props(fn).ReservedConcurrentExecutions).toBeUndefined();
    }
    const caps = [...off.resourcesOf("AWS::Lambda::EventSourceMapping").values()].map(
      (m) => (props(m).ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency,
    );
    expect(caps).toEqual(expect.arrayContaining([5, 2]));
    expect(() => synth({ "kapa:classifierReservedConcurrency": 1 })).toThrow(
      /kapa:classifierReservedConcurrency: expected 0 or an integer in \[2, 10000\], got 1/,
    );
  });

  it("uses the database and gets its delay, but not the queue URL", () => {
    const env = envOf(fixture.classifierId);
    expect(env.CLASSIFIER_DELAY_MS).toBe("2000");
    expect(env.DB_SECRET_ARN).toEqual(stack.resolve(stack.database.appSecret.secretArn));
    expect(env.CLASSIFICATION_QUEUE_URL).toBeUndefined();
    expect(fixture.fnProps(fixture.classifierId).VpcConfig).toBeDefined();
  });

  it("ships the local classifier's word vectors in its bundle, and reads them from there", () => {
    expect(envOf(fixture.classifierId).CLASSIFIER_VECTORS_PATH).toBe(CLASSIFIER_VECTORS_PATH);
    expect(CLASSIFIER_VECTORS_PATH).toBe(`/var/task/${CLASSIFIER_VECTORS_FILE.to}`);
    expect(stack.classification.classifier.bundledFiles).toEqual([CLASSIFIER_VECTORS_FILE]);
    // The sweeper never classifies: it neither ships nor names them.
    expect(envOf(fixture.sweeperId).CLASSIFIER_VECTORS_PATH).toBeUndefined();
    expect(stack.classification.sweeper.bundledFiles).toEqual([]);
  });
});

describe("classifier: its second queue and every consumer's visibility timeout", () => {
  it("takes a second queue with its own, lower cap (the backfill's)", () => {
    const backfill = stack.backfill.queue;
    const backfillId = idOf(backfill.queue);
    const caps = [...fixture.mappings.values()]
      .map(props)
      .map((m) => ({
        queue: mentions(m.EventSourceArn, backfillId)
          ? "backfill"
          : mentions(m.EventSourceArn, fixture.queueId)
            ? "live"
            : "?",
        cap: (m.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
        fn: m.FunctionName,
        report: m.FunctionResponseTypes,
      }))
      .sort((a, b) => a.queue.localeCompare(b.queue));
    expect(caps).toEqual([
      { queue: "backfill", cap: 2, fn: ref(fixture.classifierId), report: ["ReportBatchItemFailures"] },
      { queue: "live", cap: 5, fn: ref(fixture.classifierId), report: ["ReportBatchItemFailures"] },
    ]);
    // No age alarm on a backfill queue unless asked for; a DLQ alarm always.
    expect(backfill.alarms).toEqual([backfill.deadLetterDepthAlarm]);
  });

  it("gives every consumed queue (live, backfill, reports, exports, webhooks) VISIBILITY_TIMEOUT_FACTOR x its consumer's timeout", () => {
    const consumers = stack.node.findAll().filter((c): c is QueueConsumer => c instanceof QueueConsumer);
    expect(consumers.map((c) => c.node.path).sort()).toEqual([
      "KapaService/Backfill/Queue",
      "KapaService/Classification/Live",
      "KapaService/Exports/Jobs",
      "KapaService/Reports/Jobs",
      "KapaService/Webhooks/Deliveries",
      "KapaService/Webhooks/Results",
    ]);
    for (const consumer of consumers) {
      const mapping = propsMentioning(
        "AWS::Lambda::EventSourceMapping",
        "EventSourceArn",
        idOf(consumer.queue),
        "mapping",
      );
      const fnId = (mapping.FunctionName as { Ref: string }).Ref;
      const queueProps = props(fixture.queues.get(idOf(consumer.queue)));
      expect(queueProps.VisibilityTimeout).toBe((fixture.fnProps(fnId).Timeout as number) * VISIBILITY_TIMEOUT_FACTOR);
      expect((queueProps.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
      expect(mapping.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    }
  });
});

describe("sweeper", () => {
  it("runs every 5 minutes on an EventBridge Scheduler schedule that invokes it", () => {
    const schedule = fixture.scheduleOf(template, fixture.sweeperId);
    expect(schedule.ScheduleExpression).toBe("rate(5 minutes)");
    expect(schedule.State ?? "ENABLED").toBe("ENABLED");
    const target = schedule.Target as { Arn: unknown; RoleArn: { "Fn::GetAtt": [string, string] } };
    expect(target.Arn).toEqual({ "Fn::GetAtt": [fixture.sweeperId, "Arn"] });
  });

  it("the schedule's role, assumed by Scheduler only, may invoke the sweeper and nothing else", () => {
    const schedule = fixture.scheduleOf(template, fixture.sweeperId);
    const roleId = (schedule.Target as { RoleArn: { "Fn::GetAtt": [string, string] } }).RoleArn["Fn::GetAtt"][0];
    const role = props(resourcesOf("AWS::IAM::Role").get(roleId));
    const trust = (role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    expect(trust).toEqual([
      expect.objectContaining({ Action: "sts:AssumeRole", Principal: { Service: "scheduler.amazonaws.com" } }),
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expectScheduleRoleInvokesOnly(roleId, {
      functionId: fixture.sweeperId,
      lostRunsQueueId: idOf(fixture.classification.sweeps.lostRuns.queue),
      otherFunctionIds: fixture.functions.keys(),
    });
  });

  it("gets the database, the queue URL and its limits; a failed run waits for the next one", () => {
    const env = envOf(fixture.sweeperId);
    expect(env.CLASSIFICATION_QUEUE_URL).toEqual(ref(fixture.queueId));
    expect(env.SWEEPER_GRACE_SECONDS).toBe("300");
    expect(env.SWEEPER_MAX_THREADS).toBe("10000");
    expect(env.SWEEPER_LOOKBACK_HOURS).toBe("24");
    expect(env.DB_SECRET_ARN).toEqual(stack.resolve(stack.database.appSecret.secretArn));
    expect(fixture.fnProps(fixture.sweeperId).Timeout).toBeLessThan(5 * 60);
    const invokeConfig = propsMentioning(
      "AWS::Lambda::EventInvokeConfig",
      "FunctionName",
      fixture.sweeperId,
      "invoke config",
    );
    expect(invokeConfig.FunctionName).toEqual(ref(fixture.sweeperId));
    expect(invokeConfig.MaximumRetryAttempts).toBe(0);
  });
});

describe("alarms", () => {
  const alarms = [...resourcesOf("AWS::CloudWatch::Alarm").entries()];
  const alarmOn = (metric: string, queue: string) =>
    props(
      only(
        alarms.filter(([, a]) => props(a).MetricName === metric && mentions(props(a).Dimensions, queue)),
        `${metric} alarm`,
      )[1],
    );

  const queueAlarm = (queue: string, ComparisonOperator: string, Threshold: number) => ({
    Namespace: "AWS/SQS",
    Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [queue, "QueueName"] } }],
    ComparisonOperator,
    Threshold,
  });

  it("fire on any message in the DLQ", () => {
    expect(alarmOn("ApproximateNumberOfMessagesVisible", fixture.dlqId)).toMatchObject(
      queueAlarm(fixture.dlqId, "GreaterThanOrEqualToThreshold", 1),
    );
  });

  it("fire when the live queue's oldest message is older than 15 minutes", () => {
    expect(alarmOn("ApproximateAgeOfOldestMessage", fixture.queueId)).toMatchObject(
      queueAlarm(fixture.queueId, "GreaterThanThreshold", 900),
    );
  });

  it("are exposed for the observability construct", () => {
    const ids = fixture.classification.alarms.map((a) => idOf(a)).sort();
    const lostRunsId = idOf(fixture.classification.sweeps.lostRuns.queue);
    const expected = alarms
      .filter(([, a]) => [fixture.queueId, fixture.dlqId, lostRunsId].some((id) => mentions(props(a).Dimensions, id)))
      .map(([id]) => id)
      .sort();
    expect(ids).toEqual(expected);
    expect(ids).toHaveLength(3);
  });
});
