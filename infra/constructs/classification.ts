import { Duration } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { StackSettings } from "../settings.js";
import { type BedrockAccess, grantBedrockModel } from "./bedrock-access.js";
import type { Database } from "./database.js";
import { rateSchedule, type ScheduledRuns } from "./dead-letters.js";
import { KapaFunction } from "./lambda.js";
import { QueueConsumer, type QueueConsumerProps, VISIBILITY_TIMEOUT_FACTOR } from "./queue-consumer.js";

/** The classifier's timeout: a batch is classified in parallel, one question takes about 2 s. */
export const CLASSIFIER_TIMEOUT = Duration.seconds(60);
/** Visibility timeout of every queue the classifier consumes (6 x 60 s = 6 min, QueueConsumer's rule). */
export const CLASSIFIER_VISIBILITY_TIMEOUT = Duration.seconds(
  CLASSIFIER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR,
);
/** The `local` classifier's word vectors: shipped in the classifier's bundle, read at its first classification. */
export const CLASSIFIER_VECTORS_FILE = {
  from: "shared/classification/local/data/glove-50k-int8.bin",
  to: "data/glove-50k-int8.bin",
} as const;
export const CLASSIFIER_VECTORS_PATH = `/var/task/${CLASSIFIER_VECTORS_FILE.to}`;

/** The sweeper queries and enqueues in pages; it must finish well before the next run. */
export const SWEEPER_TIMEOUT = Duration.minutes(2);

export interface ClassificationProps {
  database: Database;
  settings: Pick<
    StackSettings,
    | "logRetention"
    | "logLevel"
    | "tracing"
    | "classifier"
    | "classifierModel"
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
 * lower, cap (a QueueConsumer of the classifier), so that a running backfill never starves fresh threads: the caps add
 * up, and the live one is always there.
 */
export class Classification extends Construct {
  readonly live: QueueConsumer;
  readonly liveQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly classifier: KapaFunction;
  readonly liveSource: SqsEventSource;
  readonly sweeper: KapaFunction;
  readonly sweeps: ScheduledRuns;
  readonly queueEndpoint: ec2.InterfaceVpcEndpoint;
  /** With kapa:classifier=bedrock: the classifier's grant on its model and the Bedrock runtime endpoint. */
  readonly bedrock?: BedrockAccess;
  readonly alarms: readonly cloudwatch.Alarm[];
  private readonly database: Database;
  private readonly reservedConcurrency: number;
  /** The sum of the classifier's event source caps so far. */
  private mappedConcurrency = 0;

  constructor(scope: Construct, id: string, props: ClassificationProps) {
    super(scope, id);
    const { database, settings } = props;
    this.database = database;
    // The functions run in isolated subnets: SQS is reached through an interface endpoint
    // (the event source mapping's pollers run in the Lambda service and need none).
    this.queueEndpoint = database.addInterfaceEndpoint("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS);

    this.classifier = new KapaFunction(this, "Classifier", {
      entry: "classifier",
      description: "Labels new threads from their first question (SQS event source, partial batch failures)",
      settings,
      memorySize: 512,
      timeout: CLASSIFIER_TIMEOUT,
      network: database.functionNetwork,
      environment: {
        CLASSIFIER_PROVIDER: settings.classifier,
        // The dummy's latency: `local` only (a hosted model has its own).
        CLASSIFIER_DELAY_MS: String(settings.classifierDelayMs),
        CLASSIFIER_VECTORS_PATH,
        ...(settings.classifier === "bedrock" ? { CLASSIFIER_MODEL_ID: settings.classifierModel } : {}),
      },
      bundledFiles: [CLASSIFIER_VECTORS_FILE],
    });
    if (settings.classifier === "bedrock") {
      this.bedrock = grantBedrockModel(this.classifier, database, settings.classifierModel);
    }
    database.bindTo(this.classifier.function);
    // Reserved for the classifier, at least the sum of its mappings' caps (checked in addQueue):
    // the caps never throttle it, and a burst of API traffic cannot take its concurrency away.
    // 0 reserves nothing (an account with too small a quota): the caps alone bound it then.
    this.reservedConcurrency = settings.classifierReservedConcurrency;
    if (this.reservedConcurrency > 0) {
      (this.classifier.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
        this.reservedConcurrency;
    }
    this.live = this.addQueue(this, "Live", {
      purpose: "Live thread classification",
      maxConcurrency: settings.classifierMaxConcurrency,
      batchSize: settings.classifierBatchSize,
      maxBatchingWindow: Duration.seconds(settings.classifierBatchingWindowSeconds),
      ageAlarmThreshold: Duration.seconds(settings.queueAgeAlarmSeconds),
    });
    this.liveQueue = this.live.queue;
    this.deadLetterQueue = this.live.deadLetterQueue;
    this.liveSource = this.live.source;

    const interval = Duration.minutes(settings.sweeperIntervalMinutes);
    this.sweeper = new KapaFunction(this, "Sweeper", {
      entry: "sweeper",
      description: "Re-enqueues threads left unclassified (EventBridge Scheduler)",
      settings,
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
    // A failed sweep is not retried: the next run is the retry.
    this.sweeps = rateSchedule(this, {
      scheduleId: "SweeperSchedule",
      lostRunsId: "SweeperLostRuns",
      purpose: "Sweeper schedule",
      description: "Re-enqueue threads left unclassified",
      fn: this.sweeper,
      interval,
    });
    this.alarms = [...this.live.alarms, this.sweeps.lostRuns.alarm];
  }

  /**
   * A queue the classifier consumes (QueueConsumer), with its own concurrency cap (a backfill
   * queue gets a lower one than the live queue). The caps of all of them must fit in the
   * classifier's reserved concurrency, or the mappings would be throttled.
   */
  addQueue(scope: Construct, id: string, props: Omit<QueueConsumerProps, "consumer">): QueueConsumer {
    if (this.reservedConcurrency > 0 && this.mappedConcurrency + props.maxConcurrency > this.reservedConcurrency) {
      throw new Error(
        `Invalid CDK context kapa:classifierReservedConcurrency: ${this.reservedConcurrency} is below the sum of the ` +
          `classifier's event source caps (${this.mappedConcurrency + props.maxConcurrency}): the mappings would be throttled`,
      );
    }
    this.mappedConcurrency += props.maxConcurrency;
    return new QueueConsumer(scope, id, { ...props, consumer: this.classifier });
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
