import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { KapaFunction } from "./lambda.js";

/**
 * AWS's rule for a queue that feeds a Lambda function: a visibility timeout of at least six
 * times the function timeout, so that Lambda can retry a batch it could not hand over (the
 * function was throttled) before the message becomes visible to another poller.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Deliveries of a message before it moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/**
 * SQS's longest retention: time to look at (and redrive) what failed. A message keeps its
 * original enqueue time when it moves to a dead-letter queue, so the DLQ must keep messages
 * longer than its source queue or they expire there early ("Setting-up dead-letter queue
 * retention in Amazon SQS": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
 */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** SQS's default retention (what a queue without `retentionPeriod` keeps). */
export const DEFAULT_QUEUE_RETENTION = Duration.days(4);

export interface QueueConsumerProps {
  /** What the queue carries, for the alarm descriptions. */
  purpose: string;
  /** The function the event source mapping invokes. */
  consumer: KapaFunction;
  /** Messages per invocation. */
  batchSize: number;
  /** The mapping's cap on concurrent invocations (AWS: 2..1000). */
  maxConcurrency: number;
  /** How long the mapping gathers a batch. @default none (invoke as soon as messages arrive) */
  maxBatchingWindow?: Duration;
  /** How long a message may wait to be consumed, shorter than DEAD_LETTER_RETENTION. @default 4 days (SQS's default) */
  retentionPeriod?: Duration;
  /** Alarm when the oldest message is older than this. @default no age alarm (a backfill queue is old by design) */
  ageAlarmThreshold?: Duration;
}

/**
 * One declarative place for a queue and what consumes it: a standard SQS queue whose visibility
 * timeout is VISIBILITY_TIMEOUT_FACTOR x the consumer's timeout, its dead-letter queue (after
 * MAX_RECEIVE_COUNT receives, kept 14 days), the consumer's event source mapping (batch size,
 * batching window, maxConcurrency, partial batch failures), and the alarms: any message in the
 * DLQ and, optionally, a queue that falls behind. Both queues are encrypted with SQS-managed keys
 * (no KMS grants needed) and refuse non-TLS requests. No alarm actions here: the observability
 * construct routes `alarms` where they belong.
 */
export class QueueConsumer extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly source: SqsEventSource;
  readonly deadLetterDepthAlarm: cloudwatch.Alarm;
  readonly oldestMessageAgeAlarm?: cloudwatch.Alarm;
  readonly alarms: readonly cloudwatch.Alarm[];

  /** The visibility timeout of a queue that `consumer` consumes. */
  static visibilityTimeoutFor(consumer: KapaFunction): Duration {
    const timeout = consumer.function.timeout ?? Duration.seconds(3);
    return Duration.seconds(timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR);
  }

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    const retention = props.retentionPeriod ?? DEFAULT_QUEUE_RETENTION;
    if (retention.toSeconds() >= DEAD_LETTER_RETENTION.toSeconds()) {
      throw new Error(
        `${this.node.path}: a queue's retention (${retention.toHumanString()}) must be shorter than its dead-letter queue's (${DEAD_LETTER_RETENTION.toHumanString()})`,
      );
    }
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: DEAD_LETTER_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, "Queue", {
      visibilityTimeout: QueueConsumer.visibilityTimeoutFor(props.consumer),
      retentionPeriod: retention,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.source = new SqsEventSource(this.queue, {
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: true,
    });
    props.consumer.function.addEventSource(this.source);

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
