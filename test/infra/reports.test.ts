import type { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { REPORT_SENDER_TIMEOUT } from "../../infra/constructs/reports.js";
import { DEFAULT_REPORT_CLAIM_LEASE_SECONDS } from "../../shared/reports/config.js";
import { asArray, mentions, only, props, ref, resourcesIn, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const defaultStack = synth();
const { stack, template, idOf, fnId, resourcesOf, envOf, propsMentioning } = defaultStack;
const { roleIdOf, statementsOfRole, identityStatements } = defaultStack;
const { expectEncryptedTlsOnlyQueues, expectScheduleRoleInvokesOnly } = defaultStack;
const { reports } = stack;
const queueId = idOf(reports.jobs.queue);
const dlqId = idOf(reports.jobs.deadLetterQueue);
const plannerId = fnId(reports.planner);
const senderId = fnId(reports.sender);
const identityId = idOf(reports.identity);
const functions = resourcesOf("AWS::Lambda::Function");
const isSesAction = (action: string) => /^ses:/i.test(action) || action === "*";

function reportSchedule(t: Template = template, plannerFnId = plannerId) {
  const all = [...resourcesIn(t, "AWS::Scheduler::Schedule").values()].map(props);
  return only(
    all.filter((s) => mentions((s.Target as { Arn: unknown }).Arn, plannerFnId)),
    "schedule of the report planner",
  );
}

// Assess -------------------------------------------------------------------------------------

describe("report schedule", () => {
  it("runs the planner on kapa:reportSchedule in kapa:reportTimeZone, with the scheduled time as input", () => {
    const schedule = reportSchedule();
    expect(schedule.ScheduleExpression).toBe("cron(0 8 ? * MON *)");
    expect(schedule.ScheduleExpressionTimezone).toBe("UTC");
    expect(schedule.State ?? "ENABLED").toBe("ENABLED");
    const target = schedule.Target as { Arn: unknown; Input: string; RetryPolicy: Record<string, number> };
    expect(target.Arn).toEqual({ "Fn::GetAtt": [plannerId, "Arn"] });
    expect(JSON.parse(target.Input)).toEqual({ scheduledTime: "<aws.scheduler.scheduled-time>" });
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 3 });
  });

  it("targets the planner only: no schedule invokes the sender, and the schedule's role may invoke the planner alone", () => {
    const schedules = [...resourcesOf("AWS::Scheduler::Schedule").values()].map(props);
    expect(schedules.filter((s) => mentions(s.Target, senderId))).toEqual([]);
    const roleId = (reportSchedule().Target as { RoleArn: { "Fn::GetAtt": [string, string] } }).RoleArn[
      "Fn::GetAtt"
    ][0];
    expectScheduleRoleInvokesOnly(roleId, {
      functionId: plannerId,
      lostRunsQueueId: idOf(reports.plans.lostRuns.queue),
      otherFunctionIds: functions.keys(),
    });
  });

  it("keeps lost runs: the schedule's dead-letter queue and the planner's on-failure destination, alarmed", () => {
    const lostRunsId = idOf(reports.plans.lostRuns.queue);
    expect((reportSchedule().Target as { DeadLetterConfig?: { Arn: unknown } }).DeadLetterConfig?.Arn).toEqual({
      "Fn::GetAtt": [lostRunsId, "Arn"],
    });
    const invokeConfig = props(
      only(
        [...resourcesOf("AWS::Lambda::EventInvokeConfig").values()].filter((c) =>
          mentions(props(c).FunctionName, plannerId),
        ),
        "planner invoke config",
      ),
    );
    expect(invokeConfig.MaximumRetryAttempts).toBe(2);
    expect(invokeConfig.DestinationConfig).toEqual({
      OnFailure: { Destination: { "Fn::GetAtt": [lostRunsId, "Arn"] } },
    });
    expect(
      statementsOfRole(roleIdOf(plannerId)).some(
        (s) => asArray(s.Action).includes("sqs:SendMessage") && mentions(s.Resource, lostRunsId),
      ),
    ).toBe(true);
    expect(reports.alarms).toContain(reports.plans.lostRuns.alarm);
  });

  it("follows the context settings, and refuses invalid ones at synth", () => {
    const custom = synth({
      "kapa:reportSchedule": "cron(30 7 ? * MON-FRI *)",
      "kapa:reportTimeZone": "Europe/Berlin",
      "kapa:reportSender": "usage@acme.example",
    });
    const schedule = reportSchedule(custom.template, custom.fnId(custom.stack.reports.planner));
    expect(schedule).toMatchObject({
      ScheduleExpression: "cron(30 7 ? * MON-FRI *)",
      ScheduleExpressionTimezone: "Europe/Berlin",
    });
    expect(props(only(custom.resourcesOf("AWS::SES::EmailIdentity").values(), "identity"))).toMatchObject({
      EmailIdentity: "usage@acme.example",
    });
    expect(custom.envOf(custom.fnId(custom.stack.reports.sender)).REPORT_SENDER).toBe("usage@acme.example");
    expect(() => synth({ "kapa:reportSchedule": "cron(0 8 * * MON *)" })).toThrow(/kapa:reportSchedule/);
    expect(() => synth({ "kapa:reportSchedule": "every monday" })).toThrow(/kapa:reportSchedule/);
    expect(() => synth({ "kapa:reportTimeZone": "Mars/Olympus" })).toThrow(/kapa:reportTimeZone/);
    expect(() => synth({ "kapa:reportSender": "not an address" })).toThrow(/kapa:reportSender/);
  });
});

describe("report queue", () => {
  const queues = resourcesOf("AWS::SQS::Queue");
  const queue = props(queues.get(queueId));
  const dlq = props(queues.get(dlqId));

  it("dead-letters a job after 5 receives, and hides a received job for 6 x the sender's timeout", () => {
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 });
    expect(dlq.RedrivePolicy).toBeUndefined();
    expect(queue.VisibilityTimeout).toBe(6 * REPORT_SENDER_TIMEOUT.toSeconds());
    // A claim outlives the sender that holds it, and has expired when the job comes back.
    expect(REPORT_SENDER_TIMEOUT.toSeconds()).toBeLessThan(DEFAULT_REPORT_CLAIM_LEASE_SECONDS);
    expect(DEFAULT_REPORT_CLAIM_LEASE_SECONDS).toBeLessThan(queue.VisibilityTimeout as number);
    expect(fnProps(senderId).Timeout).toBe(REPORT_SENDER_TIMEOUT.toSeconds());
  });

  it("and its DLQ are encrypted with SQS-managed keys and refuse requests without TLS", () => {
    expectEncryptedTlsOnlyQueues([queueId, dlqId]);
  });

  it("alarms on any dead-lettered job", () => {
    const alarms = [...resourcesOf("AWS::CloudWatch::Alarm").values()].map(props);
    expect(alarms.filter((a) => mentions(a.Dimensions, dlqId))).toEqual([
      expect.objectContaining({ MetricName: "ApproximateNumberOfMessagesVisible", Threshold: 1 }),
    ]);
  });

  it("is fed by the planner only, which gets its URL and may send to it", () => {
    expect(envOf(plannerId).REPORT_QUEUE_URL).toEqual(ref(queueId));
    const senders = identityStatements()
      .filter(({ statement }) => asArray(statement.Action).some((a) => /^sqs:(SendMessage|\*)/i.test(a)))
      .filter(({ statement }) => asArray(statement.Resource).some((r) => mentions(r, queueId)))
      .flatMap(({ roles }) => roles);
    expect(senders).toEqual([roleIdOf(plannerId)]);
  });
});

const fnProps = (id: string) => props(functions.get(id));

describe("report sender", () => {
  it("consumes the queue through one event source mapping with partial batch failures and a concurrency cap", () => {
    const mappings = [...resourcesOf("AWS::Lambda::EventSourceMapping").values()].map(props);
    const mapping = propsMentioning(
      "AWS::Lambda::EventSourceMapping",
      "EventSourceArn",
      queueId,
      "mapping of the report queue",
    );
    expect(mapping).toMatchObject({
      FunctionName: ref(senderId),
      EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(mappings.filter((m) => mentions(m.FunctionName, plannerId))).toEqual([]);
  });

  it("sends from the SES email identity of kapa:reportSender", () => {
    const identity = props(only(resourcesOf("AWS::SES::EmailIdentity").values(), "email identity"));
    expect(identity.EmailIdentity).toBe("reports@example.com");
    expect(envOf(senderId)).toMatchObject({
      REPORT_SENDER: "reports@example.com",
      REPORT_CLAIM_LEASE_SECONDS: String(DEFAULT_REPORT_CLAIM_LEASE_SECONDS),
    });
  });

  it("may SendEmail and SendRawEmail on that identity's ARN (and its configuration set's) only, never on *", () => {
    const sesStatements = statementsOfRole(roleIdOf(senderId)).filter((s) => asArray(s.Action).some(isSesAction));
    const statement = only(sesStatements, "SES statement of the sender");
    expect(statement.Effect).toBe("Allow");
    expect(asArray(statement.Action).sort()).toEqual(["ses:SendEmail", "ses:SendRawEmail"]);
    const resources = asArray(statement.Resource);
    expect(resources).toHaveLength(2);
    const identityArn = resources.find((r) => JSON.stringify(r).includes(":identity/"));
    expect(mentions(identityArn, identityId)).toBe(true);
    const setArn = resources.find((r) => JSON.stringify(r).includes(":configuration-set/"));
    expect(mentions(setArn, idOf(reports.configurationSet))).toBe(true);
    for (const { statement: s } of identityStatements()) {
      if (asArray(s.Action).some(isSesAction)) expect(asArray(s.Resource)).not.toContain("*");
    }
  });

  it("is the only principal with SES permissions", () => {
    const roles = identityStatements()
      .filter(({ statement }) => statement.Effect === "Allow" && asArray(statement.Action).some(isSesAction))
      .flatMap(({ roles }) => roles);
    expect([...new Set(roles)]).toEqual([roleIdOf(senderId)]);
  });
});

describe("report functions", () => {
  it("both reach the database through RDS Proxy in the database network", () => {
    for (const id of [plannerId, senderId]) {
      expect(envOf(id)).toMatchObject({
        DB_SECRET_ARN: stack.resolve(stack.database.appSecret.secretArn),
        DB_HOST: stack.resolve(stack.database.proxy?.endpoint),
      });
      const vpc = fnProps(id).VpcConfig as { SecurityGroupIds: unknown[] };
      expect(vpc.SecurityGroupIds).toEqual([{ "Fn::GetAtt": [idOf(stack.database.functionSecurityGroup), "GroupId"] }]);
    }
  });

  it("reach SQS and SES through one interface endpoint each, SQS's shared with classification", () => {
    const endpoints = [...resourcesOf("AWS::EC2::VPCEndpoint").values()].map((e) =>
      JSON.stringify(props(e).ServiceName),
    );
    expect(endpoints.filter((name) => name.endsWith('.sqs"]]}'))).toHaveLength(1);
    expect(endpoints.filter((name) => name.endsWith('.email"]]}'))).toHaveLength(1);
  });
});
