import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { StateMachine } from "aws-local-stepfunctions";
import { afterAll, describe, expect, it } from "vitest";
import { BACKFILL_STATES } from "../../infra/constructs/backfill.js";
import { CLASSIFIER_VISIBILITY_TIMEOUT } from "../../infra/constructs/classification.js";
import { functionEntries, type KapaFunction } from "../../infra/constructs/lambda.js";
import { DEFAULT_SETTINGS } from "../../infra/settings.js";
import type { Asl, AslState, CfnTemplate } from "../../local/state-machine.js";
import { loadBackfillMachine, resolveStateMachine, synthesizeBackfillMachine } from "../../local/state-machine.js";
import { asArray, mentions, only, props, ref, type Statement, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const defaultStack = synth();
const { stack, template, idOf, fnId, resourcesOf, envOf, propsMentioning } = defaultStack;
const { roleIdOf, statementsOfRole, identityStatements } = defaultStack;
const { backfill } = stack;
const machineId = idOf(backfill.stateMachine);
const planId = fnId(backfill.plan);
const enqueueId = fnId(backfill.enqueueRange);
const classifierId = fnId(stack.classification.classifier);
const queueId = idOf(backfill.queue.queue);
const dlqId = idOf(backfill.queue.deadLetterQueue);
const liveQueueId = idOf(stack.classification.liveQueue);
const startFnId = fnId(stack.api.handlers.get("reclassify-start") as KapaFunction);
const statusFnId = fnId(stack.api.handlers.get("reclassify-status") as KapaFunction);

/** The logical id of every function of ours -> its entry point. */
const entries = functionEntries(stack);
const machine = resolveStateMachine(template.toJSON() as CfnTemplate, machineId, entries);
const states = machine.definition.States;
const state = (name: string) => states[name] as AslState;
const enqueueState = () =>
  (state(BACKFILL_STATES.map).ItemProcessor as Asl).States[BACKFILL_STATES.enqueueRange] as AslState;

/** Does any statement of the role allow `action` on something that mentions `resourceId`? */
const roleAllows = (roleId: string, action: string, resourceId: string) =>
  statementsOfRole(roleId).some(
    (s) => s.Effect === "Allow" && asArray(s.Action).includes(action) && mentions(s.Resource, resourceId),
  );
const actionsOf = (roleId: string) => new Set(statementsOfRole(roleId).flatMap((s) => asArray(s.Action)));

const cacheDir = mkdtempSync(path.join(tmpdir(), "kapa-backfill-machine-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

// Assess -------------------------------------------------------------------------------------

describe("backfill state machine", () => {
  it("is one standard state machine: Plan -> EnqueueRanges (Map) -> MorePages? -> Plan | Summary -> Done", () => {
    const machineProps = props(resourcesOf("AWS::StepFunctions::StateMachine").get(machineId));
    expect(machineProps.StateMachineType).toBe("STANDARD");
    expect(machine.definition.StartAt).toBe(BACKFILL_STATES.plan);
    expect(Object.keys(states).sort()).toEqual(
      ["Plan", "EnqueueRanges", "MorePages", "Summary", "Done", "BackfillFailed"].sort(),
    );
    expect(state("Plan")).toMatchObject({ Type: "Task", Next: "EnqueueRanges" });
    expect(state("EnqueueRanges")).toMatchObject({ Type: "Map", Next: "MorePages" });
    expect(state("MorePages")).toMatchObject({
      Type: "Choice",
      Choices: [{ Variable: "$.more", BooleanEquals: true, Next: "Plan" }],
      Default: "Summary",
    });
    expect(state("Summary")).toMatchObject({ Type: "Pass", Next: "Done" });
    expect(state("Done").Type).toBe("Succeed");
    expect(machine.definition.TimeoutSeconds).toBe(24 * 3600);
  });

  it("maps over the page's ranges with MaxConcurrency, inline, discarding their results", () => {
    expect(state("EnqueueRanges")).toMatchObject({
      ItemsPath: "$.ranges",
      ItemSelector: { "job.$": "$.job", "range.$": "$$.Map.Item.Value" },
      MaxConcurrency: DEFAULT_SETTINGS.backfillMapConcurrency,
      ResultPath: null,
      ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, StartAt: "EnqueueRange" },
    });
    expect(enqueueState()).toMatchObject({ Type: "Task", End: true });
  });

  it("invokes exactly the Plan and EnqueueRange functions, Plan with the page and range sizes", () => {
    expect(machine.tasks).toEqual({ Plan: "backfill-plan", EnqueueRange: "backfill-enqueue-range" });
    expect(state("Plan").Parameters).toEqual({
      "state.$": "$",
      "startedAt.$": "$$.Execution.StartTime",
      pageSize: 1_000_000,
      rangeSize: 100_000,
    });
    // The function's timeout fires first (retried as Sandbox.Timedout); the state's is the backstop.
    expect(state("Plan").TimeoutSeconds).toBeGreaterThan(
      props(resourcesOf("AWS::Lambda::Function").get(planId)).Timeout as number,
    );
    expect(enqueueState().TimeoutSeconds).toBeGreaterThan(
      props(resourcesOf("AWS::Lambda::Function").get(enqueueId)).Timeout as number,
    );
  });

  it("retries Lambda, SQS and database errors and timeouts (the function's and the state's) with backoff, on both tasks", () => {
    for (const task of [state("Plan"), enqueueState()]) {
      const retriers = task.Retry as { ErrorEquals: string[]; BackoffRate?: number; MaxAttempts?: number }[];
      const retried = retriers.flatMap((r) => r.ErrorEquals);
      for (const error of [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Sandbox.Timedout",
        "Lambda.Unknown",
        "States.Timeout",
        "BackfillQueueError",
        "BackfillDatabaseError",
      ]) {
        expect(retried).toContain(error);
      }
      for (const retrier of retriers) {
        expect(retrier.BackoffRate).toBeGreaterThanOrEqual(2);
        expect(retrier.MaxAttempts).toBeGreaterThanOrEqual(3);
      }
      expect(retried).not.toContain("States.ALL"); // a bug or a bad input fails at once
    }
  });
});

describe("backfill state machine: failures and its one source", () => {
  it("catches what is left on Plan and on the Map into a Fail state that keeps the error and cause", () => {
    for (const name of ["Plan", "EnqueueRanges"]) {
      expect(state(name).Catch).toEqual([
        { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "BackfillFailed" },
      ]);
    }
    expect(state("BackfillFailed")).toMatchObject({
      Type: "Fail",
      ErrorPath: "$.error.Error",
      CausePath: "$.error.Cause",
    });
  });

  it("is valid ASL for the local interpreter (which checks JSONPaths and ARNs)", () => {
    expect(() => new StateMachine(structuredClone(machine.definition) as never)).not.toThrow();
  });
});

describe("the definition the local runtime executes", () => {
  it("is the synthesized one: the runner synthesizes the app itself and resolves the same template", async () => {
    const synthesized = await synthesizeBackfillMachine();
    expect(synthesized).toEqual(machine);
    const fresh = await loadBackfillMachine({ cacheDir });
    expect(fresh.cached).toBe(false);
    const cached = await loadBackfillMachine({ cacheDir });
    expect(cached.cached).toBe(true);
    for (const loaded of [fresh, cached]) {
      const { cached: _, ...definition } = loaded;
      expect(definition).toEqual(machine);
    }
    // The template's own text, with the functions' ARNs filled in, is that ASL.
    const raw = JSON.stringify(props(resourcesOf("AWS::StepFunctions::StateMachine").get(machineId)).DefinitionString);
    expect(raw).toContain(planId);
    expect(JSON.stringify(machine.definition)).toContain(`function:${planId}`);
  }, 60_000);

  it("follows the context: other sizes synthesize another definition, cached apart", async () => {
    const context = { "kapa:backfillPageSize": 300, "kapa:backfillRangeSize": 100, "kapa:backfillMapConcurrency": 3 };
    const small = await loadBackfillMachine({ cacheDir, context, synthesizeHere: true });
    expect(small.cached).toBe(false);
    expect((small.definition.States.Plan as AslState).Parameters).toMatchObject({ pageSize: 300, rangeSize: 100 });
    expect((small.definition.States.EnqueueRanges as AslState).MaxConcurrency).toBe(3);
  }, 60_000);
});

describe("backfill queue", () => {
  const queues = resourcesOf("AWS::SQS::Queue");

  it("has its own DLQ after 5 receives, the classifier's visibility timeout and 10 days' retention (its DLQ's: 14)", () => {
    const queue = props(queues.get(queueId));
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 });
    expect(queue.VisibilityTimeout).toBe(CLASSIFIER_VISIBILITY_TIMEOUT.toSeconds());
    expect(queue.MessageRetentionPeriod).toBe(10 * 24 * 3600);
    expect(props(queues.get(dlqId)).MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queue.SqsManagedSseEnabled).toBe(true);
  });

  it("is drained by the same classifier through its own mapping, capped lower than the live queue's", () => {
    const onQueue = (id: string) =>
      propsMentioning("AWS::Lambda::EventSourceMapping", "EventSourceArn", id, `mapping of ${id}`);
    const backfillMapping = onQueue(queueId);
    const liveMapping = onQueue(liveQueueId);
    expect(backfillMapping).toMatchObject({
      FunctionName: ref(classifierId),
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    const cap = (m: Record<string, unknown>) => (m.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency;
    expect(cap(backfillMapping)).toBeLessThan(cap(liveMapping));
  });

  it("alarms on its DLQ and on failed executions, not on its age (a backfill queue is old by design)", () => {
    const alarms = [...resourcesOf("AWS::CloudWatch::Alarm").values()].map(props);
    expect(alarms.filter((a) => mentions(a.Dimensions, dlqId)).map((a) => a.MetricName)).toEqual([
      "ApproximateNumberOfMessagesVisible",
    ]);
    // Only the observability construct's alarm watches its age: at half the retention (messages would expire).
    expect(alarms.filter((a) => mentions(a.Dimensions, queueId))).toEqual([
      expect.objectContaining({ MetricName: "ApproximateAgeOfOldestMessage", Threshold: 5 * 24 * 3600 }),
    ]);
    const failed = only(
      alarms.filter((a) => a.MetricName === "ExecutionsFailed"),
      "failed executions alarm",
    );
    expect(mentions(failed.Dimensions, machineId)).toBe(true);
    expect(backfill.alarms).toHaveLength(2);
  });
});

describe("IAM least privilege", () => {
  const machineRoleId = (
    props(resourcesOf("AWS::StepFunctions::StateMachine").get(machineId)).RoleArn as {
      "Fn::GetAtt": [string, string];
    }
  )["Fn::GetAtt"][0];

  it("lets the state machine invoke its two functions and nothing else (besides delivering its logs)", () => {
    const role = props(resourcesOf("AWS::IAM::Role").get(machineRoleId));
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain("states.amazonaws.com");
    const statements = statementsOfRole(machineRoleId);
    const invoke = statements.filter((s) => asArray(s.Action).includes("lambda:InvokeFunction"));
    const invoked = new Set(
      invoke.flatMap((s) => asArray(s.Resource)).map((r) => [...entries.keys()].find((id) => mentions(r, id))),
    );
    expect(invoked).toEqual(new Set([planId, enqueueId]));
    const others = statements.filter((s) => !invoke.includes(s));
    for (const s of others) for (const action of asArray(s.Action)) expect(action).toMatch(/^logs:/);
  });

  it("gives Plan the database and nothing of SQS or Step Functions", () => {
    const actions = [...actionsOf(roleIdOf(planId))];
    expect(actions.filter((a) => /^(sqs|states):/.test(a))).toEqual([]);
    expect(envOf(planId).DB_SECRET_ARN).toBeDefined();
  });

  it("lets EnqueueRange send to the backfill queue only (not the live one), and read nothing from it", () => {
    const roleId = roleIdOf(enqueueId);
    expect(roleAllows(roleId, "sqs:SendMessage", queueId)).toBe(true);
    expect(roleAllows(roleId, "sqs:SendMessage", liveQueueId)).toBe(false);
    expect([...actionsOf(roleId)].filter((a) => /^sqs:(Receive|Delete|Purge)/.test(a))).toEqual([]);
    expect(envOf(enqueueId).BACKFILL_QUEUE_URL).toEqual(ref(queueId));
  });

  it("lets only EnqueueRange and the sweeper send to the backfill queue, and nobody use its DLQ", () => {
    const senders = identityStatements()
      .filter(
        ({ statement }) =>
          asArray(statement.Action).includes("sqs:SendMessage") && mentions(statement.Resource, queueId),
      )
      .flatMap(({ roles }) => roles);
    expect(new Set(senders)).toEqual(new Set([roleIdOf(enqueueId), roleIdOf(fnId(stack.classification.sweeper))]));
    expect(envOf(fnId(stack.classification.sweeper)).BACKFILL_QUEUE_URL).toEqual(ref(queueId));
    for (const { statement } of identityStatements()) expect(mentions(statement.Resource, dlqId)).toBe(false);
  });

  it("lets POST reclassify start and list executions, GET reclassify describe them, and no one else touch Step Functions", () => {
    const startRole = roleIdOf(startFnId);
    const statusRole = roleIdOf(statusFnId);
    expect(roleAllows(startRole, "states:StartExecution", machineId)).toBe(true);
    expect(roleAllows(startRole, "states:ListExecutions", machineId)).toBe(true);
    expect(roleAllows(statusRole, "states:DescribeExecution", machineId)).toBe(true);
    expect(actionsOf(statusRole).has("states:StartExecution")).toBe(false);
    const describe = statementsOfRole(statusRole).find((s) =>
      asArray(s.Action).includes("states:DescribeExecution"),
    ) as Statement;
    expect(JSON.stringify(describe.Resource)).toContain(":execution:");
    const sfnRoles = new Set(
      identityStatements()
        .filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith("states:")))
        .flatMap(({ roles }) => roles),
    );
    expect(sfnRoles).toEqual(new Set([startRole, statusRole]));
    for (const id of [startFnId, statusFnId]) {
      expect(envOf(id).BACKFILL_STATE_MACHINE_ARN).toEqual(ref(machineId));
    }
  });
});

describe("settings", () => {
  it("come from the context", () => {
    const custom = synth({
      "kapa:backfillMaxConcurrency": 3,
      // The classifier reserves the sum of its caps (live 5 + backfill 3).
      "kapa:classifierReservedConcurrency": 8,
      "kapa:backfillPageSize": 2000,
      "kapa:backfillRangeSize": 500,
      "kapa:backfillMapConcurrency": 4,
    });
    const customMachine = resolveStateMachine(
      custom.template.toJSON() as CfnTemplate,
      custom.idOf(custom.stack.backfill.stateMachine),
      functionEntries(custom.stack),
    );
    expect((customMachine.definition.States.Plan as AslState).Parameters).toMatchObject({
      pageSize: 2000,
      rangeSize: 500,
    });
    expect((customMachine.definition.States.EnqueueRanges as AslState).MaxConcurrency).toBe(4);
    const backfillQueue = custom.idOf(custom.stack.backfill.queue.queue);
    const mapping = custom.propsMentioning(
      "AWS::Lambda::EventSourceMapping",
      "EventSourceArn",
      backfillQueue,
      "backfill mapping",
    );
    expect(mapping.ScalingConfig).toEqual({ MaximumConcurrency: 3 });
  });

  it("are rejected at synth when the page would not split into at most 40 whole ranges, or AWS would refuse the cap", () => {
    expect(() => synth({ "kapa:backfillPageSize": 1000, "kapa:backfillRangeSize": 300 })).toThrow(
      /kapa:backfillPageSize/,
    );
    expect(() => synth({ "kapa:backfillPageSize": 4100, "kapa:backfillRangeSize": 100 })).toThrow(
      /kapa:backfillPageSize/,
    );
    expect(() => synth({ "kapa:backfillMaxConcurrency": 1 })).toThrow(/kapa:backfillMaxConcurrency/);
    expect(() => synth({ "kapa:backfillMapConcurrency": 41 })).toThrow(/kapa:backfillMapConcurrency/);
  });
});
