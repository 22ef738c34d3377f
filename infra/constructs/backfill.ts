import { Duration, Names, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { RETRYABLE_BACKFILL_ERRORS } from "../../shared/backfill/errors.js";
import { LAMBDA_SERVICE_ERRORS, LAMBDA_TIMEOUT_ERRORS } from "../../shared/platform/lambda.js";
import type { StackSettings } from "../settings.js";
import type { Classification } from "./classification.js";
import type { Database } from "./database.js";
import { KapaFunction, type KapaFunctionProps } from "./lambda.js";
import type { QueueConsumer } from "./queue-consumer.js";

/** Plan reads up to pageSize / rangeSize index ranges of rangeSize entries each. */
export const PLAN_TIMEOUT = Duration.minutes(1);
/** EnqueueRange sends one range (100,000 ids by default: 10,000 SendMessageBatch calls, seconds). */
export const ENQUEUE_RANGE_TIMEOUT = Duration.minutes(5);
/** An execution only enqueues: 100 pages (100M threads at the default sizes) take well under this. */
export const EXECUTION_TIMEOUT = Duration.hours(24);
/** Where AWS advises Step Functions' log groups go (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html). */
export const VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/";

/**
 * Ten days, below its dead-letter queue's 14 (a message keeps its enqueue time when it moves
 * there): at the default cap (2 x 10 messages in flight, 2 s each, 10 threads/s) the queue holds
 * about 8.6 million threads' worth of work before a message could expire (an expired one is
 * harmless: the thread stays unlabelled and a re-run sends it again).
 */
export const BACKFILL_RETENTION = Duration.days(10);

/** The state names: the local runtime and the tests refer to them. */
export const BACKFILL_STATES = {
  plan: "Plan",
  map: "EnqueueRanges",
  enqueueRange: "EnqueueRange",
  more: "MorePages",
  summary: "Summary",
  done: "Done",
  failed: "BackfillFailed",
} as const;

/**
 * A Task state's own TimeoutSeconds: the function's timeout plus this margin. The function's
 * timeout fires first, as `Sandbox.Timedout` (shared/platform/lambda.ts), and is retried; the state's
 * `States.Timeout` is only the backstop for an invocation whose answer never comes back, and is
 * retried too. (A state timeout below the function's would start a retry while the first
 * attempt still runs.)
 */
export const TASK_TIMEOUT_MARGIN = Duration.seconds(30);

/**
 * What both Lambda tasks retry, with backoff: our transient errors (SQS, database), the Lambda
 * service's transient errors, and a timeout, the function's or the state's. A range that timed
 * out once is sent again: the classifier skips the duplicates (a message carries its job's cutoff).
 * Anything else (a bug, a bad input) goes to the Catch at once.
 */
export const BACKFILL_RETRY: sfn.RetryProps = {
  errors: [...RETRYABLE_BACKFILL_ERRORS, ...LAMBDA_SERVICE_ERRORS, ...LAMBDA_TIMEOUT_ERRORS, sfn.Errors.TIMEOUT],
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.minutes(2),
  jitterStrategy: sfn.JitterType.FULL,
};

export interface BackfillProps {
  database: Database;
  classification: Classification;
  settings: Pick<
    StackSettings,
    | "logRetention"
    | "logLevel"
    | "tracing"
    | "classifierBatchSize"
    | "classifierBatchingWindowSeconds"
    | "backfillMaxConcurrency"
    | "backfillPageSize"
    | "backfillRangeSize"
    | "backfillMapConcurrency"
  >;
}

/**
 * The backfill: a Step Functions state machine that walks the unlabelled threads (or, for a
 * reclassify, also the classifier's labels) in thread-id ranges and sends their ids to the
 * backfill queue, which the classifier drains through its own event source mapping with a lower
 * cap than the live queue's, so that fresh threads keep being labelled at their pace.
 *
 *   Plan -> EnqueueRanges (Map, MaxConcurrency) { EnqueueRange } -> MorePages? -> Plan
 *                                                                         \-> Summary -> Done
 *   any error left after the retries -> BackfillFailed (with the error and its cause)
 *
 * The state is small and constant: range bounds, never the thread ids; each Map's results are
 * discarded. docs/backfill.md has the arithmetic of history events and payload sizes.
 */
export class Backfill extends Construct {
  readonly queue: QueueConsumer;
  readonly source: SqsEventSource;
  readonly plan: KapaFunction;
  readonly enqueueRange: KapaFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** The API's reclassify handlers call Step Functions from the VPC through it. */
  readonly stepFunctionsEndpoint: ec2.InterfaceVpcEndpoint;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: BackfillProps) {
    super(scope, id);
    const { database, classification, settings } = props;
    // The same classifier as the live queue's, behind a mapping of its own with a lower cap.
    this.queue = classification.addQueue(this, "Queue", {
      purpose: "Thread backfill",
      maxConcurrency: settings.backfillMaxConcurrency,
      batchSize: settings.classifierBatchSize,
      maxBatchingWindow: Duration.seconds(settings.classifierBatchingWindowSeconds),
      retentionPeriod: BACKFILL_RETENTION,
    });
    this.source = this.queue.source;

    this.plan = databaseTask(this, "PlanFunction", database, {
      entry: "backfill-plan",
      description: "Backfill: the next page of thread-id ranges (Step Functions task)",
      settings,
      memorySize: 512,
      timeout: PLAN_TIMEOUT,
    });
    this.enqueueRange = databaseTask(this, "EnqueueRangeFunction", database, {
      entry: "backfill-enqueue-range",
      description: "Backfill: sends one range's thread ids to the backfill queue (Step Functions task)",
      settings,
      memorySize: 1024,
      timeout: ENQUEUE_RANGE_TIMEOUT,
    });
    // SendMessage (and SendMessageBatch) on the backfill queue only; SQS through the VPC endpoint.
    this.queue.queue.grantSendMessages(this.enqueueRange.function);
    this.enqueueRange.addEnvironment("BACKFILL_QUEUE_URL", this.queue.queue.queueUrl);
    // The sweeper sends backlog there too: a deleted category's threads, re-sends beyond a few per project.
    this.queue.queue.grantSendMessages(classification.sweeper.function);
    classification.sweeper.addEnvironment("BACKFILL_QUEUE_URL", this.queue.queue.queueUrl);

    const definition = this.defineStates(settings);
    this.logGroup = new logs.LogGroup(this, "ExecutionLogs", {
      // Under /aws/vendedlogs/, as AWS advises for Step Functions: log delivery then needs no
      // resource policy on the group, whose size limit fails deployments with many of them.
      logGroupName: `${VENDED_LOGS_PREFIX}${Stack.of(this).stackName}-${Names.uniqueId(this)}-executions`,
      retention: settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      comment: "Backfill: enqueue the unlabelled (or classifier-labelled) threads for the classifier, by id range",
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: EXECUTION_TIMEOUT,
      tracingEnabled: settings.tracing,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });

    // API handlers in the isolated subnets reach Step Functions through an interface endpoint.
    this.stepFunctionsEndpoint = database.addInterfaceEndpoint(
      "StepFunctions",
      ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    );

    this.failedExecutionsAlarm = this.stateMachine
      .metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM })
      .createAlarm(this, "FailedExecutionsAlarm", {
        alarmDescription: "A backfill execution failed: see its error and cause, fix, and start it again",
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [...this.queue.alarms, this.failedExecutionsAlarm];
  }

  /** Plan -> EnqueueRanges -> MorePages (loop) -> Summary -> Done; BackfillFailed on any error left. */
  private defineStates(settings: BackfillProps["settings"]): sfn.IChainable {
    const failed = new sfn.Fail(this, BACKFILL_STATES.failed, {
      comment: "A step failed after its retries: the error and cause say why; a re-run does what is left",
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });
    const catchAll = { errors: [sfn.Errors.ALL], resultPath: "$.error" };

    const plan = new tasks.LambdaInvoke(this, BACKFILL_STATES.plan, {
      comment: "One keyset page of the target's thread ids, cut into ranges; replaces the loop state",
      lambdaFunction: this.plan.function,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        state: sfn.JsonPath.entirePayload,
        startedAt: sfn.JsonPath.stringAt("$$.Execution.StartTime"),
        pageSize: settings.backfillPageSize,
        rangeSize: settings.backfillRangeSize,
      }),
      taskTimeout: sfn.Timeout.duration(PLAN_TIMEOUT.plus(TASK_TIMEOUT_MARGIN)),
      // BACKFILL_RETRY covers the service errors: one retrier, one backoff.
      retryOnServiceExceptions: false,
    })
      .addRetry(BACKFILL_RETRY)
      .addCatch(failed, catchAll);

    const enqueueRange = new tasks.LambdaInvoke(this, BACKFILL_STATES.enqueueRange, {
      comment: "Streams the range's ids the target still covers to the backfill queue",
      lambdaFunction: this.enqueueRange.function,
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(ENQUEUE_RANGE_TIMEOUT.plus(TASK_TIMEOUT_MARGIN)),
      retryOnServiceExceptions: false,
    }).addRetry(BACKFILL_RETRY);

    const map = new sfn.Map(this, BACKFILL_STATES.map, {
      comment: "The page's ranges, MaxConcurrency at a time; their results are discarded",
      itemsPath: "$.ranges",
      itemSelector: {
        job: sfn.JsonPath.objectAt("$.job"),
        range: sfn.JsonPath.objectAt("$$.Map.Item.Value"),
      },
      maxConcurrency: settings.backfillMapConcurrency,
      resultPath: sfn.JsonPath.DISCARD,
    })
      .itemProcessor(enqueueRange)
      .addCatch(failed, catchAll);

    const summary = new sfn.Pass(this, BACKFILL_STATES.summary, {
      comment: "The execution's output: what it covered and how many ids it sent",
      parameters: {
        project_id: sfn.JsonPath.stringAt("$.job.projectId"),
        scope: sfn.JsonPath.stringAt("$.job.scope"),
        classified_before: sfn.JsonPath.stringAt("$.job.classifiedBefore"),
        pages: sfn.JsonPath.numberAt("$.pages"),
        enqueued: sfn.JsonPath.numberAt("$.planned"),
      },
    }).next(new sfn.Succeed(this, BACKFILL_STATES.done));

    const more = new sfn.Choice(this, BACKFILL_STATES.more, { comment: "Loop while Plan left a cursor" })
      .when(sfn.Condition.booleanEquals("$.more", true), plan)
      .otherwise(summary);
    return sfn.Chain.start(plan).next(map).next(more);
  }

  /** Lets a function start jobs: StartExecution and ListExecutions on this machine, and its ARN. */
  bindJobStarter(fn: KapaFunction): void {
    this.stateMachine.grantStartExecution(fn.function);
    this.stateMachine.grant(fn.function, "states:ListExecutions");
    fn.addEnvironment("BACKFILL_STATE_MACHINE_ARN", this.stateMachine.stateMachineArn);
  }

  /** Lets a function read jobs: DescribeExecution on this machine's executions, and its ARN. */
  bindJobReader(fn: KapaFunction): void {
    this.stateMachine.grantExecution(fn.function, "states:DescribeExecution");
    fn.addEnvironment("BACKFILL_STATE_MACHINE_ARN", this.stateMachine.stateMachineArn);
  }
}

/** A Step Functions task's function: in the database network, bound to the database. */
function databaseTask(
  scope: Construct,
  id: string,
  database: Database,
  props: Omit<KapaFunctionProps, "network">,
): KapaFunction {
  const fn = new KapaFunction(scope, id, { ...props, network: database.functionNetwork });
  database.bindTo(fn.function);
  return fn;
}
