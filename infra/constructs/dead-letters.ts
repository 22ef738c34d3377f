import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { KapaFunction } from "./lambda.js";

export interface LostRunsQueueProps {
  /** What lands here, for the alarm's description. */
  purpose: string;
}

/**
 * Where a scheduled run that never happened goes: the dead-letter queue of an EventBridge
 * Scheduler target (the schedule could not invoke the function after its retries) and the
 * on-failure destination of an asynchronous invocation (the function failed after Lambda's
 * retries). Either way the event is kept 14 days and an alarm fires on the first one.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export class LostRunsQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LostRunsQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, "Queue", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.alarm = this.queue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM })
      .createAlarm(this, "Alarm", {
        alarmDescription: `${props.purpose}: a scheduled run was lost (not invoked, or failed after its retries); the event waits in the queue. Run it by hand, then purge the queue.`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
  }
}

export interface RateScheduleProps {
  /** The schedule's construct id, and its lost-runs queue's. */
  scheduleId: string;
  lostRunsId: string;
  /** The lost-runs queue's purpose (its alarm's description). */
  purpose: string;
  description: string;
  fn: KapaFunction;
  interval: Duration;
}

/** A scheduled function's schedule, and the queue that keeps the runs it could not start. */
export interface ScheduledRuns {
  schedule: scheduler.Schedule;
  lostRuns: LostRunsQueue;
}

/**
 * A function run every `interval` by EventBridge Scheduler whose next run is the retry of a
 * failed one: the invocation is not retried by Lambda, and a run that could not start within an
 * interval is superseded by the next one (after the Scheduler's two attempts, it is kept on the
 * lost-runs queue). The target creates the schedule's role, allowed lambda:InvokeFunction on the
 * function only (and sqs:SendMessage on its dead-letter queue).
 */
export function rateSchedule(scope: Construct, props: RateScheduleProps): ScheduledRuns {
  const { fn, interval } = props;
  fn.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: interval });
  const lostRuns = new LostRunsQueue(scope, props.lostRunsId, { purpose: props.purpose });
  const schedule = new scheduler.Schedule(scope, props.scheduleId, {
    description: props.description,
    schedule: scheduler.ScheduleExpression.rate(interval),
    target: new LambdaInvoke(fn.function, { maxEventAge: interval, retryAttempts: 2, deadLetterQueue: lostRuns.queue }),
  });
  return { schedule, lostRuns };
}
