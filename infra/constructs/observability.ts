import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { METRICS_SERVICE } from "../../shared/platform/metrics.js";
import type { StackSettings } from "../settings.js";
import type { Api } from "./api.js";
import { BACKFILL_RETENTION, type Backfill } from "./backfill.js";
import type { Classification } from "./classification.js";
import { appMetric, dashboardRows } from "./dashboard.js";
import type { Database } from "./database.js";
import { serviceHealth } from "./health.js";
import type { Reports } from "./reports.js";

/**
 * The `service` dimension Powertools Metrics adds to every data point (shared/platform/metrics.ts:
 * `serviceName`). CloudWatch matches a metric on its exact dimension set, so each app metric
 * here is {service} or {service, <its own dimension>}, exactly as the code emits it
 * (test/infra/observability.test.ts checks this against shared/platform/metrics.ts).
 */
export { METRICS_SERVICE };

/** The thresholds of the alarms this construct adds (README, "Operations", lists them). */
export const ALARM_THRESHOLDS = {
  /** API 5xx responses, % of requests in 5 minutes... */
  api5xxRatePercent: 1,
  /** ...counted only when the 5 minutes had at least this many requests. */
  api5xxMinRequests: 50,
  /** Classifier invocations that crashed or timed out, % over 15 minutes (3 x 5 min). */
  classifierErrorRatePercent: 5,
  classifierMinInvocations: 5,
  /** Messages the classifier could not label (retried, then dead-lettered), % over 15 minutes. */
  classificationFailureRatePercent: 10,
  classificationMinAttempts: 20,
  /** Chat enqueue failures in each of 3 consecutive 5-minute periods (the sweeper repairs single ones). */
  enqueueFailuresPerPeriod: 1,
  /** The backfill queue would lose messages after BACKFILL_RETENTION: alarm at half of it. */
  backfillQueueAge: Duration.seconds(BACKFILL_RETENTION.toSeconds() / 2),
  /** Failed sweeper runs within one hour (capped at the runs an hour has). */
  sweeperErrorsPerHour: 3,
} as const;

const FIVE_MINUTES = Duration.minutes(5);

export interface ObservabilityProps {
  api: Api;
  classification: Classification;
  /** Alarms and widgets for the backfill state machine and queue, when the stack has them. */
  backfill?: Backfill;
  /** Alarms and widgets for the report planner, sender and queue, when the stack has them. */
  reports?: Reports;
  /** Database and API latency alarms and widgets (constructs/health.ts), when given. */
  database?: Database;
  /** The export queue's alarms (its DLQ, its age), when the stack has exports. */
  exports?: { alarms: readonly cloudwatch.Alarm[] };
  /** The webhook queues' alarms (DLQs, ages) and the dispatcher's lost runs, when the stack has webhooks. */
  webhooks?: { alarms: readonly cloudwatch.Alarm[] };
  settings: Pick<StackSettings, "alarmEmail" | "sweeperIntervalMinutes">;
}

/**
 * Alarms and the dashboard of the service.
 *
 * Every alarm of the stack goes to one SNS topic (ALARM and OK transitions): the dead-letter and
 * queue-age alarms the queue constructs create, the backfill's failed-executions alarm, and the
 * ones made here: API 5xx rate, classifier error and failure rates, sustained enqueue failures,
 * failing sweeper runs, a backfill queue that would expire messages, backfill executions that
 * timed out or were aborted, and report planner and sender errors. `kapa:alarmEmail` subscribes
 * an address (SNS mails a confirmation link first).
 *
 * The topic is encrypted with its own KMS key, which CloudWatch may use: alarms cannot publish to
 * a topic under the AWS-managed SNS key.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  /** Every alarm wired to the topic: the ones collected from the other constructs and this one's. */
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly api5xxRateAlarm: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { api, classification, backfill, reports, settings } = props;
    const { topic, key } = alarmTopic(this, settings.alarmEmail);
    this.topic = topic;
    this.topicKey = key;

    this.api5xxRateAlarm = api5xxRateAlarm(this, api);
    const created = [
      this.api5xxRateAlarm,
      ...liveAlarms(this, classification, settings.sweeperIntervalMinutes),
      ...(backfill ? backfillAlarms(this, backfill) : []),
      ...(reports ? reportAlarms(this, reports) : []),
    ];

    const health = props.database ? serviceHealth(this, { api, database: props.database }) : undefined;
    created.push(...(health?.alarms ?? []));

    // Collect, never duplicate: the queue constructs own their DLQ and age alarms.
    const collected = [
      ...classification.alarms,
      ...(backfill?.alarms ?? []),
      ...(reports?.alarms ?? []),
      ...(props.exports?.alarms ?? []),
      ...(props.webhooks?.alarms ?? []),
    ];
    this.alarms = [...new Set([...collected, ...created])];
    const action = new actions.SnsAction(this.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.hours(3),
      widgets: [
        ...dashboardRows({ api, classification, backfill, reports, alarms: this.alarms }),
        ...(health ? [health.widgets] : []),
      ],
    });
  }
}

/** The topic every alarm notifies, under its own KMS key (alarms cannot publish under the AWS-managed SNS key). */
function alarmTopic(scope: Construct, alarmEmail: string): { topic: sns.Topic; key: kms.Key } {
  const key = new kms.Key(scope, "AlarmTopicKey", {
    description: "Encrypts the alarm topic; CloudWatch alarms may use it to publish",
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsPublish",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"], // in a key policy, "*" is this key
      conditions: { StringEquals: { "aws:SourceAccount": Stack.of(scope).account } },
    }),
  );
  const topic = new sns.Topic(scope, "AlarmTopic", {
    displayName: "kapa-service alarms",
    masterKey: key,
    enforceSSL: true,
  });
  if (alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(alarmEmail));

  return { topic, key };
}

/** API: 5xx responses (ours and API Gateway's own, e.g. an authorizer that cannot reach the database). */
function api5xxRateAlarm(scope: Construct, api: Api): cloudwatch.Alarm {
  const stage = api.restApi.deploymentStage;
  const t = ALARM_THRESHOLDS;
  const requests = stage.metricCount({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });
  const serverErrors = stage.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });
  return new cloudwatch.MathExpression({
    label: "API 5xx %",
    expression: `IF(requests >= ${t.api5xxMinRequests}, 100 * FILL(errors, 0) / requests, 0)`,
    usingMetrics: { requests, errors: serverErrors },
    period: FIVE_MINUTES,
  }).createAlarm(scope, "Api5xxRateAlarm", {
    alarmDescription: `API: more than ${t.api5xxRatePercent}% of requests answered 5xx in 5 minutes (at least ${t.api5xxMinRequests} requests). Check the handler and authorizer logs and the database.`,
    threshold: t.api5xxRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** The live path: classifier crashes, messages it could not label, threads not enqueued, failing sweeper runs. */
function liveAlarms(scope: Construct, classification: Classification, sweeperIntervalMinutes: number) {
  const classifier = classification.classifier.function;
  const t = ALARM_THRESHOLDS;
  // Classifier: invocations that crashed or timed out (it reports failed messages instead of throwing).
  const classifierErrorRateAlarm = new cloudwatch.MathExpression({
    label: "Classifier errors %",
    expression: `IF(invocations >= ${t.classifierMinInvocations}, 100 * FILL(errors, 0) / invocations, 0)`,
    usingMetrics: {
      invocations: classifier.metricInvocations({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      errors: classifier.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
    },
    period: FIVE_MINUTES,
  }).createAlarm(scope, "ClassifierErrorRateAlarm", {
    alarmDescription: `Classifier: more than ${t.classifierErrorRatePercent}% of invocations failed (crash or timeout) for 15 minutes. Check its logs; the batches are retried and end in the DLQ.`,
    threshold: t.classifierErrorRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  // Classifier: messages it could not label (the app metric), against the labels it wrote.
  const classificationFailureRateAlarm = new cloudwatch.MathExpression({
    label: "Classification failures %",
    expression: `IF(FILL(failures, 0) + FILL(labels, 0) >= ${t.classificationMinAttempts}, 100 * FILL(failures, 0) / (FILL(failures, 0) + FILL(labels, 0)), 0)`,
    usingMetrics: {
      failures: appMetric("ClassificationFailures", {}, cloudwatch.Stats.SUM),
      labels: appMetric("LabelsWritten", { Source: "classifier" }, cloudwatch.Stats.SUM),
    },
    period: FIVE_MINUTES,
  }).createAlarm(scope, "ClassificationFailureRateAlarm", {
    alarmDescription: `Classification: more than ${t.classificationFailureRatePercent}% of messages failed for 15 minutes (ClassificationFailures vs LabelsWritten). Failed messages are retried, then dead-lettered.`,
    threshold: t.classificationFailureRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  // Chat: new threads not sent to the live queue, for 15 minutes in a row (the queue is unreachable).
  const enqueueFailuresAlarm = appMetric("ClassificationEnqueueFailures", {}, cloudwatch.Stats.SUM).createAlarm(
    scope,
    "EnqueueFailuresAlarm",
    {
      alarmDescription:
        "Chat: new threads could not be sent to the classification queue for 15 minutes. Chats still answer; the sweeper re-sends the threads once SQS is reachable.",
      threshold: t.enqueueFailuresPerPeriod,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    },
  );

  // Sweeper: the safety net of the live path; one failed run is retried by the next one.
  const runsPerHour = Math.max(1, Math.floor(60 / sweeperIntervalMinutes));
  const sweeperThreshold = Math.min(t.sweeperErrorsPerHour, runsPerHour);
  const sweeperErrorsAlarm = classification.sweeper.function
    .metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM })
    .createAlarm(scope, "SweeperErrorsAlarm", {
      alarmDescription: `Sweeper: ${sweeperThreshold} or more runs failed within an hour; unlabelled threads are not re-sent. Check its logs.`,
      threshold: sweeperThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

  return [classifierErrorRateAlarm, classificationFailureRateAlarm, enqueueFailuresAlarm, sweeperErrorsAlarm];
}

/** Backfill: a queue that would expire messages, executions that timed out or were aborted. */
function backfillAlarms(scope: Construct, backfill: Backfill) {
  const t = ALARM_THRESHOLDS;
  const backfillQueue = backfill.queue.queue;
  // The backfill queue is old by design while a backfill runs; messages only expire at retention.
  const queueAge = backfillQueue
    .metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM })
    .createAlarm(scope, "BackfillQueueAgeAlarm", {
      alarmDescription: `Backfill queue: the oldest message waits more than ${t.backfillQueueAge.toHumanString()}; messages expire after ${BACKFILL_RETENTION.toHumanString()}. Check that the classifier consumes it (event source mapping enabled, no errors).`,
      threshold: t.backfillQueueAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  const machine = backfill.stateMachine;
  // Failed executions have their own alarm (constructs/backfill.ts).
  const executions = new cloudwatch.MathExpression({
    label: "Backfill executions timed out or aborted",
    expression: "FILL(timedOut, 0) + FILL(aborted, 0)",
    usingMetrics: {
      timedOut: machine.metricTimedOut({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      aborted: machine.metricAborted({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
    },
    period: FIVE_MINUTES,
  }).createAlarm(scope, "BackfillExecutionsAlarm", {
    alarmDescription:
      "Backfill: an execution timed out or was aborted before it finished. Start it again: a re-run only does what is left.",
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return [queueAge, executions];
}

/** Reports: a planner run that queued no jobs, a sender that crashed. */
function reportAlarms(scope: Construct, reports: Reports) {
  return [
    functionErrorsAlarm(
      scope,
      "ReportPlannerErrorsAlarm",
      reports.planner.function,
      "Reports: the planner failed (after the scheduler's retries, no report jobs were queued for this period). Check its logs, then run `kapa report send` or invoke the planner again.",
    ),
    functionErrorsAlarm(
      scope,
      "ReportSenderErrorsAlarm",
      reports.sender.function,
      "Reports: the sender failed (crash or timeout); its jobs are retried and end in the report DLQ. Check its logs and SES.",
    ),
  ];
}

function functionErrorsAlarm(scope: Construct, id: string, fn: lambda.IFunction, description: string) {
  return fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }).createAlarm(scope, id, {
    alarmDescription: description,
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
