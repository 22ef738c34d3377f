import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { StackSettings } from "../settings.js";
import type { Database } from "./database.js";
import { LostRunsQueue } from "./dead-letters.js";
import { KapaFunction } from "./lambda.js";

/** The classifier's timeout: a batch is classified in parallel, one question takes about 2 s. */
export const CLASSIFIER_TIMEOUT = Duration.seconds(60);
/**
 * AWS's rule for a queue that feeds a Lambda function: a visibility timeout of at least six
 * times the function timeout, so that Lambda can retry a batch it could not hand over (the
 * function was throttled) before the message becomes visible to another poller.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Visibility timeout of every queue the classifier consumes (6 x 60 s = 6 min). */
export const CLASSIFIER_VISIBILITY_TIMEOUT = Duration.seconds(
  CLASSIFIER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR,
);
/** Deliveries of a message before it moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** SQS's longest retention: time to look at (and redrive) what failed. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** The sweeper queries and enqueues in pages; it must finish well before the next run. */
export const SWEEPER_TIMEOUT = Duration.minutes(2);

export interface ClassificationQueueProps {
  /** What the queue carries, for the alarm descriptions. */
  purpose: string;
  /** At least CLASSIFIER_VISIBILITY_TIMEOUT for a queue the classifier consumes. */
  visibilityTimeout: Duration;
  /** Alarm when the oldest message is older than this. @default no age alarm (a backfill queue is old by design) */
  ageAlarmThreshold?: Duration;
  /** How long a message may wait to be consumed. @default 4 days (SQS's default) */
  retentionPeriod?: Duration;
}

/**
 * A standard SQS queue of thread ids (`{"threadId": "..."}`) with its dead-letter queue and
 * alarms: any message in the DLQ, and (optionally) a queue that falls behind. Both queues are
 * encrypted with SQS-managed keys (no KMS grants needed) and refuse non-TLS requests.
 * No alarm actions here: the observability construct routes `alarms` where they belong.
 */
export class ClassificationQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterDepthAlarm: cloudwatch.Alarm;
  readonly oldestMessageAgeAlarm?: cloudwatch.Alarm;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ClassificationQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: DEAD_LETTER_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, "Queue", {
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retentionPeriod,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.deadLetterDepthAlarm = this.deadLetterQueue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM })
      .createAlarm(this, "DeadLetterDepthAlarm", {
        alarmDescription: `${props.purpose}: messages failed ${MAX_RECEIVE_COUNT} times and wait in the dead-letter queue`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms = [this.deadLetterDepthAlarm];
    if (props.ageAlarmThreshold) {
      this.oldestMessageAgeAlarm = this.queue
        .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM })
        .createAlarm(this, "OldestMessageAgeAlarm", {
          alarmDescription: `${props.purpose}: the oldest message waits more than ${props.ageAlarmThreshold.toSeconds()} s`,
          threshold: props.ageAlarmThreshold.toSeconds(),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      alarms.push(this.oldestMessageAgeAlarm);
    }
    this.alarms = alarms;
  }
}

/** Per-source knobs of the classifier's event source mappings. */
export interface ClassifierSourceOptions {
  /** The mapping's cap on concurrent classifier invocations (AWS: 2..1000). */
  maxConcurrency: number;
  /** Messages per invocation, classified in parallel. @default 10 */
  batchSize?: number;
  /** @default 1 second */
  maxBatchingWindow?: Duration;
}

export interface ClassificationProps {
  database: Database;
  settings: Pick<
    StackSettings,
    | "logRetention"
    | "logLevel"
    | "tracing"
    | "classifierDelayMs"
    | "classifierBatchSize"
    | "classifierBatchingWindowSeconds"
    | "classifierMaxConcurrency"
    | "classifierReservedConcurrency"
    | "sweeperIntervalMinutes"
    | "sweeperGraceSeconds"
    | "sweeperMaxThreads"
    | "sweeperLookbackHours"
    | "queueAgeAlarmSeconds"
  >;
}

/**
 * Thread classification, off the chat path: the API sends each new thread id to the live queue
 * (`bindSender`), the classifier consumes it through an SQS event source mapping, and the
 * sweeper, run by EventBridge Scheduler, re-enqueues threads left unclassified (a lost enqueue,
 * a message dead-lettered, a label removed by a user).
 *
 * Concurrency is capped where AWS caps it: the event source mapping's `maxConcurrency`, not
 * reserved concurrency (which throttles, and a throttled batch goes back to the queue and burns
 * receive counts towards the DLQ). With the defaults the live path has at most
 *
 *     maxConcurrency (5) invocations x batchSize (10) messages classified in parallel each
 *     = 50 classifications in flight
 *
 * (and 5 x DB_POOL_MAX database connections). A backfill queue gets its own mapping with its own,
 * lower, cap (`addSource`), so that a running backfill never starves fresh threads: the caps add
 * up, and the live one is always there.
 */
export class Classification extends Construct {
  readonly live: ClassificationQueue;
  readonly liveQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly classifier: KapaFunction;
  readonly liveSource: SqsEventSource;
  readonly sweeper: KapaFunction;
  readonly sweeperSchedule: scheduler.Schedule;
  /** The sweeper runs the schedule could not start. */
  readonly sweeperLostRuns: LostRunsQueue;
  readonly queueEndpoint: ec2.InterfaceVpcEndpoint;
  readonly alarms: readonly cloudwatch.Alarm[];
  private readonly database: Database;
  private readonly reservedConcurrency: number;
  /** The sum of the classifier's event source caps so far. */
  private mappedConcurrency = 0;

  constructor(scope: Construct, id: string, props: ClassificationProps) {
    super(scope, id);
    const { database, settings } = props;
    this.database = database;
    const functionSettings = {
      logRetention: settings.logRetention,
      logLevel: settings.logLevel,
      tracing: settings.tracing,
    };

    // The functions run in isolated subnets: SQS is reached through an interface endpoint
    // (the event source mapping's pollers run in the Lambda service and need none).
    this.queueEndpoint = database.addInterfaceEndpoint("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS);

    this.live = new ClassificationQueue(this, "Live", {
      purpose: "Live thread classification",
      visibilityTimeout: CLASSIFIER_VISIBILITY_TIMEOUT,
      ageAlarmThreshold: Duration.seconds(settings.queueAgeAlarmSeconds),
    });
    this.liveQueue = this.live.queue;
    this.deadLetterQueue = this.live.deadLetterQueue;

    this.classifier = new KapaFunction(this, "Classifier", {
      entry: "classifier",
      description: "Labels new threads from their first question (SQS event source, partial batch failures)",
      settings: functionSettings,
      memorySize: 512,
      timeout: CLASSIFIER_TIMEOUT,
      network: database.functionNetwork,
      environment: { CLASSIFIER_DELAY_MS: String(settings.classifierDelayMs) },
    });
    database.bindTo(this.classifier.function);
    // Reserved for the classifier, at least the sum of its mappings' caps (checked in addSource):
    // the caps never throttle it, and a burst of API traffic cannot take its concurrency away.
    this.reservedConcurrency = settings.classifierReservedConcurrency;
    (this.classifier.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
      this.reservedConcurrency;
    this.liveSource = this.addSource(this.liveQueue, {
      maxConcurrency: settings.classifierMaxConcurrency,
      batchSize: settings.classifierBatchSize,
      maxBatchingWindow: Duration.seconds(settings.classifierBatchingWindowSeconds),
    });

    const interval = Duration.minutes(settings.sweeperIntervalMinutes);
    this.sweeper = new KapaFunction(this, "Sweeper", {
      entry: "sweeper",
      description: "Re-enqueues threads left unclassified (EventBridge Scheduler)",
      settings: functionSettings,
      memorySize: 512,
      timeout: SWEEPER_TIMEOUT,
      network: database.functionNetwork,
      environment: {
        SWEEPER_GRACE_SECONDS: String(settings.sweeperGraceSeconds),
        SWEEPER_MAX_THREADS: String(settings.sweeperMaxThreads),
        SWEEPER_LOOKBACK_HOURS: String(settings.sweeperLookbackHours),
      },
    });
    database.bindTo(this.sweeper.function);
    this.bindSender(this.sweeper);
    // Scheduler invokes asynchronously; a failed sweep is not retried: the next run is the retry.
    this.sweeper.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: interval });

    // The target creates the schedule's role, allowed lambda:InvokeFunction on the sweeper only
    // (and sqs:SendMessage on its dead-letter queue).
    this.sweeperLostRuns = new LostRunsQueue(this, "SweeperLostRuns", { purpose: "Sweeper schedule" });
    this.sweeperSchedule = new scheduler.Schedule(this, "SweeperSchedule", {
      description: "Re-enqueue threads left unclassified",
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new LambdaInvoke(this.sweeper.function, {
        // A run that could not start within an interval is superseded by the next one.
        maxEventAge: interval,
        retryAttempts: 2,
        deadLetterQueue: this.sweeperLostRuns.queue,
      }),
    });
    this.alarms = [...this.live.alarms, this.sweeperLostRuns.alarm];
  }

  /**
   * Adds a queue the classifier consumes, with its own concurrency cap (a backfill queue gets a
   * lower one than the live queue). The queue must allow CLASSIFIER_VISIBILITY_TIMEOUT; the
   * mapping gets receive/delete rights on it, and reports partial batch failures.
   */
  addSource(queue: sqs.IQueue, options: ClassifierSourceOptions): SqsEventSource {
    const visibility =
      queue instanceof sqs.Queue ? (queue.node.defaultChild as sqs.CfnQueue).visibilityTimeout : undefined;
    if (typeof visibility === "number" && visibility < CLASSIFIER_VISIBILITY_TIMEOUT.toSeconds()) {
      throw new Error(
        `${queue.node.path}: visibility timeout ${visibility} s is below ${CLASSIFIER_VISIBILITY_TIMEOUT.toSeconds()} s ` +
          `(${VISIBILITY_TIMEOUT_FACTOR} x the classifier timeout)`,
      );
    }
    if (this.mappedConcurrency + options.maxConcurrency > this.reservedConcurrency) {
      throw new Error(
        `Invalid CDK context kapa:classifierReservedConcurrency: ${this.reservedConcurrency} is below the sum of the ` +
          `classifier's event source caps (${this.mappedConcurrency + options.maxConcurrency}): the mappings would be throttled`,
      );
    }
    this.mappedConcurrency += options.maxConcurrency;
    const source = new SqsEventSource(queue, {
      batchSize: options.batchSize ?? 10,
      maxBatchingWindow: options.maxBatchingWindow ?? Duration.seconds(1),
      maxConcurrency: options.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.classifier.function.addEventSource(source);
    return source;
  }

  /**
   * Lets a function send thread ids to the live queue: `sqs:SendMessage` (and SendMessageBatch)
   * on that queue only, and CLASSIFICATION_QUEUE_URL in its environment. A function in the VPC
   * must run in the database network, whose security group the SQS endpoint admits.
   */
  bindSender(fn: KapaFunction): void {
    const lambdaFn = fn.function;
    if (lambdaFn.isBoundToVpc && !lambdaFn.connections.securityGroups.includes(this.database.functionSecurityGroup)) {
      throw new Error(`${fn.node.path} cannot reach the SQS endpoint: create it with database.functionNetwork`);
    }
    this.liveQueue.grantSendMessages(lambdaFn);
    fn.addEnvironment("CLASSIFICATION_QUEUE_URL", this.liveQueue.queueUrl);
  }
}
