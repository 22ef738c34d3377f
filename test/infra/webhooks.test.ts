import { describe, expect, it } from "vitest";
import * as webhooksConstruct from "../../infra/constructs/webhooks.js";
import { asArray, mentions, only, props, type Statement, synth } from "./support.js";

const defaultStack = synth();
const { stack, idOf, fnId, resourcesOf, envOf, roleIdOf, statementsOfRole } = defaultStack;
const { expectEncryptedTlsOnlyQueues, expectScheduleRoleInvokesOnly } = defaultStack;
const { webhooks, api } = stack;
const senderId = fnId(webhooks.sender);
const recorderId = fnId(webhooks.recorder);
const dispatcherId = fnId(webhooks.dispatcher);
const apiFnId = fnId(api.handlers.get("webhook-api") as NonNullable<ReturnType<typeof api.handlers.get>>);
const deliveriesId = idOf(webhooks.deliveries.queue);
const deliveriesDlqId = idOf(webhooks.deliveries.deadLetterQueue);
const resultsId = idOf(webhooks.results.queue);
const resultsDlqId = idOf(webhooks.results.deadLetterQueue);
const functions = resourcesOf("AWS::Lambda::Function");
const mappingOf = (functionId: string) =>
  only(
    [...resourcesOf("AWS::Lambda::EventSourceMapping").values()]
      .map(props)
      .filter((m) => mentions(m.FunctionName, functionId)),
    `event source of ${functionId}`,
  );
const sqsActions = (statements: Statement[]) =>
  statements.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith("sqs:") || a === "*");
const messageKeyId = idOf(webhooks.messageKey);
/** The Secrets Manager actions of a function's role, and on what. */
const secretGrants = (functionId: string) =>
  statementsOfRole(roleIdOf(functionId)).filter((s) => asArray(s.Action).some((a) => a.startsWith("secretsmanager:")));
const expectReadsOnlyTheMessageKey = (functionId: string, otherSecrets: "none" | "database") => {
  const grants = secretGrants(functionId);
  const onKey = grants.filter((s) => mentions(s.Resource, messageKeyId));
  expect(onKey.flatMap((s) => asArray(s.Action)).sort()).toEqual([
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
  ]);
  expect(envOf(functionId).WEBHOOK_MESSAGE_KEY_SECRET_ARN).toEqual({ Ref: messageKeyId });
  if (otherSecrets === "none") expect(grants).toEqual(onKey);
};
const sendTargets = (functionId: string) =>
  statementsOfRole(roleIdOf(functionId))
    .filter((s) => asArray(s.Action).includes("sqs:SendMessage"))
    .map((s) => s.Resource);

describe("webhook queues", () => {
  it("are encrypted, TLS-only, and dead-letter what fails five times", () => {
    expectEncryptedTlsOnlyQueues([deliveriesId, deliveriesDlqId, resultsId, resultsDlqId]);
    const queues = resourcesOf("AWS::SQS::Queue");
    expect(props(queues.get(deliveriesId)).RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [deliveriesDlqId, "Arn"] },
      maxReceiveCount: 5,
    });
    expect(props(queues.get(deliveriesId)).VisibilityTimeout).toBe(6 * webhooksConstruct.SENDER_TIMEOUT.toSeconds());
  });

  it("have alarms on their dead-letter queues and ages, routed with every other alarm", () => {
    expect(webhooks.alarms.length).toBe(5);
    for (const alarm of webhooks.alarms) expect(stack.observability.alarms).toContain(alarm);
  });
});

describe("webhook sender", () => {
  it("consumes the delivery queue with a capped concurrency, reporting failed messages", () => {
    const mapping = mappingOf(senderId);
    expect(mentions(mapping.EventSourceArn, deliveriesId)).toBe(true);
    expect(mapping).toMatchObject({
      BatchSize: webhooksConstruct.SENDER_BATCH_SIZE,
      ScalingConfig: { MaximumConcurrency: webhooksConstruct.SENDER_MAX_CONCURRENCY },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("runs outside the VPC with no database access: it may only send to the two webhook queues and read the message key", () => {
    const sender = props(functions.get(senderId));
    expect(sender.VpcConfig).toBeUndefined();
    expect(sender.Timeout).toBe(webhooksConstruct.SENDER_TIMEOUT.toSeconds());
    const env = envOf(senderId);
    expect(Object.keys(env).filter((k) => k.startsWith("DB_") || k === "DATABASE_URL")).toEqual([]);
    expect(env.WEBHOOK_QUEUE_URL).toEqual({ Ref: deliveriesId });
    expect(env.WEBHOOK_RESULTS_QUEUE_URL).toEqual({ Ref: resultsId });
    const statements = statementsOfRole(roleIdOf(senderId));
    expect(statements.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith("kms:") || a === "*")).toEqual([]);
    expectReadsOnlyTheMessageKey(senderId, "none");
    const targets = sendTargets(senderId);
    expect(targets).toHaveLength(2);
    expect(targets.some((r) => mentions(r, deliveriesId))).toBe(true);
    expect(targets.some((r) => mentions(r, resultsId))).toBe(true);
  });
});

describe("webhook recorder and dispatcher", () => {
  it("the recorder consumes the outcomes, in the VPC, and may send only retries to the delivery queue", () => {
    const mapping = mappingOf(recorderId);
    expect(mentions(mapping.EventSourceArn, resultsId)).toBe(true);
    expect(mapping).toMatchObject({
      ScalingConfig: { MaximumConcurrency: webhooksConstruct.RECORDER_MAX_CONCURRENCY },
    });
    expect(props(functions.get(recorderId)).VpcConfig).toBeDefined();
    expect(sendTargets(recorderId).every((r) => mentions(r, deliveriesId))).toBe(true);
  });

  it("the dispatcher runs every minute by schedule, polls for less than its timeout, and sends to the delivery queue only", () => {
    const dispatcher = props(functions.get(dispatcherId));
    expect(dispatcher.Timeout as number).toBeGreaterThan(webhooksConstruct.DISPATCH_WINDOW.toSeconds());
    // Each run polls past the next one's start: no part of the minute without a poller.
    expect(webhooksConstruct.DISPATCH_WINDOW.toSeconds()).toBeGreaterThan(
      webhooksConstruct.DISPATCH_INTERVAL.toSeconds(),
    );
    expect(envOf(dispatcherId).WEBHOOK_DISPATCH_WINDOW_SECONDS).toBe(
      String(webhooksConstruct.DISPATCH_WINDOW.toSeconds()),
    );
    const schedule = props(resourcesOf("AWS::Scheduler::Schedule").get(idOf(webhooks.dispatches.schedule)));
    expect(schedule.ScheduleExpression).toBe("rate(1 minute)");
    const target = schedule.Target as { RoleArn: { "Fn::GetAtt": [string, string] } };
    expectScheduleRoleInvokesOnly(target.RoleArn["Fn::GetAtt"][0], {
      functionId: dispatcherId,
      lostRunsQueueId: idOf(webhooks.dispatches.lostRuns.queue),
      otherFunctionIds: functions.keys(),
    });
    expect(sendTargets(dispatcherId).every((r) => mentions(r, deliveriesId))).toBe(true);
    expect(sqsActions(statementsOfRole(roleIdOf(dispatcherId)))).not.toContain("sqs:ReceiveMessage");
  });

  it("the webhook API may send redeliveries to the delivery queue, and has its URL", () => {
    expect(envOf(apiFnId).WEBHOOK_QUEUE_URL).toEqual({ Ref: deliveriesId });
    expect(sendTargets(apiFnId).some((r) => mentions(r, deliveriesId))).toBe(true);
    expect(sqsActions(statementsOfRole(roleIdOf(apiFnId)))).not.toContain("sqs:ReceiveMessage");
  });
});

describe("webhook message key", () => {
  it("is a generated secret that only the functions making or sending deliveries may read", () => {
    const secret = props(resourcesOf("AWS::SecretsManager::Secret").get(messageKeyId));
    expect(secret.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    expectReadsOnlyTheMessageKey(dispatcherId, "database");
    expectReadsOnlyTheMessageKey(recorderId, "database");
    expectReadsOnlyTheMessageKey(apiFnId, "database");
    const readers = [...functions.keys()].filter((id) =>
      secretGrants(id).some((s) => mentions(s.Resource, messageKeyId)),
    );
    expect(readers.sort()).toEqual([apiFnId, dispatcherId, recorderId, senderId].sort());
  });
});
