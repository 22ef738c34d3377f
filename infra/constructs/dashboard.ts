import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../../shared/platform/metrics.js";
import type { Api } from "./api.js";
import type { Backfill } from "./backfill.js";
import type { Classification } from "./classification.js";
import type { QueueConsumer } from "./queue-consumer.js";
import type { Reports } from "./reports.js";

/** The service's CloudWatch dashboard (infra/constructs/observability.ts puts it in the stack). */

const FIVE_MINUTES = Duration.minutes(5);

/** An app metric as shared/platform/metrics.ts emits it: namespace KapaService, dimensions {service, ...own}. */
export function appMetric(
  metricName: string,
  dimensions: Record<string, string>,
  statistic: string,
  period: Duration = FIVE_MINUTES,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
    statistic,
    period,
  });
}

export interface DashboardSources {
  api: Api;
  classification: Classification;
  backfill?: Backfill;
  reports?: Reports;
  alarms: readonly cloudwatch.Alarm[];
}

const ONE_MINUTE = Duration.minutes(1);
const sum = { period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM };
const max = { period: ONE_MINUTE, statistic: cloudwatch.Stats.MAXIMUM };

function graph(title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) {
  return new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
}

/** The dashboard, top to bottom: alarms, API, classification, queues, classifier, backfill and reports. */
export function dashboardRows(sources: DashboardSources): cloudwatch.IWidget[][] {
  const { api, classification, backfill, reports, alarms } = sources;
  const stage = api.restApi.deploymentStage;
  const classifier = classification.classifier.function;
  const queues: { name: string; queue: QueueConsumer }[] = [
    { name: "live", queue: classification.live },
    ...(backfill ? [{ name: "backfill", queue: backfill.queue }] : []),
    ...(reports ? [{ name: "reports", queue: reports.jobs }] : []),
  ];
  const byQueue = (metric: (q: sqs.IQueue) => cloudwatch.Metric) =>
    queues.map(({ name, queue }) => metric(queue.queue).with({ label: name }));

  const rows: cloudwatch.IWidget[][] = [
    [new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms: [...alarms], width: 24, height: 4 })],
    [
      graph("Chat latency (ms)", [
        appMetric("RequestLatency", { Route: "chat" }, cloudwatch.Stats.p(50), ONE_MINUTE).with({ label: "p50" }),
        appMetric("RequestLatency", { Route: "chat" }, cloudwatch.Stats.p(99), ONE_MINUTE).with({ label: "p99" }),
      ]),
      graph("API requests and errors", [
        stage.metricCount({ ...sum, label: "requests" }),
        stage.metricClientError({ ...sum, label: "4xx" }),
        stage.metricServerError({ ...sum, label: "5xx" }),
      ]),
      graph("Classification enqueue failures", [
        appMetric("ClassificationEnqueueFailures", {}, cloudwatch.Stats.SUM, ONE_MINUTE).with({
          label: "failed sends",
        }),
        appMetric("SweeperRequeued", {}, cloudwatch.Stats.SUM, ONE_MINUTE).with({ label: "re-sent by the sweeper" }),
      ]),
    ],
    [
      graph("Time to label (s)", [
        appMetric("TimeToLabel", {}, cloudwatch.Stats.p(50)).with({ label: "p50" }),
        appMetric("TimeToLabel", {}, cloudwatch.Stats.p(99)).with({ label: "p99" }),
      ]),
      graph("Labels written per source", [
        appMetric("LabelsWritten", { Source: "classifier" }, cloudwatch.Stats.SUM).with({ label: "classifier" }),
        appMetric("LabelsWritten", { Source: "user" }, cloudwatch.Stats.SUM).with({ label: "user" }),
        appMetric("ClassificationFailures", {}, cloudwatch.Stats.SUM).with({ label: "failures" }),
      ]),
      graph(
        "Queue depth (visible messages)",
        byQueue((q) => q.metricApproximateNumberOfMessagesVisible(max)),
      ),
    ],
    [
      graph(
        "Oldest message age (s)",
        byQueue((q) => q.metricApproximateAgeOfOldestMessage(max)),
      ),
      graph(
        "Dead-letter queue depths",
        queues.map(({ name, queue }) =>
          queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: `${name} DLQ` }),
        ),
      ),
      graph(
        "Classifier invocations and errors",
        [
          classifier.metricInvocations({ ...sum, label: "invocations" }),
          classifier.metricErrors({ ...sum, label: "errors" }),
          classifier.metricThrottles({ ...sum, label: "throttles" }),
        ],
        {
          right: [classifier.metric("ConcurrentExecutions", { ...max, label: "concurrency (max)" })],
        },
      ),
    ],
  ];

  const last = backfillAndReportWidgets(sources);
  if (last.length > 0) rows.push(last);
  return rows;
}

/** The last row: backfill executions and report sends, for the parts this stack has. */
function backfillAndReportWidgets({ backfill, reports }: DashboardSources): cloudwatch.IWidget[] {
  const last: cloudwatch.IWidget[] = [];
  if (backfill) {
    const machine = backfill.stateMachine;
    last.push(
      graph(
        "Backfill executions",
        [
          machine.metricStarted({ ...sum, label: "started" }),
          machine.metricSucceeded({ ...sum, label: "succeeded" }),
          machine.metricFailed({ ...sum, label: "failed" }),
          machine.metricTimedOut({ ...sum, label: "timed out" }),
          machine.metricAborted({ ...sum, label: "aborted" }),
        ],
        {
          right: [appMetric("BackfillEnqueued", {}, cloudwatch.Stats.SUM, ONE_MINUTE).with({ label: "ids enqueued" })],
        },
      ),
    );
  }
  if (reports) {
    last.push(
      graph("Report sends", [
        reports.sender.function.metricInvocations({ ...sum, label: "sender invocations" }),
        reports.sender.function.metricErrors({ ...sum, label: "sender errors" }),
        reports.jobs.queue.metricNumberOfMessagesDeleted({ ...sum, label: "teams done" }),
        reports.planner.function.metricInvocations({ ...sum, label: "planner runs" }),
        reports.planner.function.metricErrors({ ...sum, label: "planner errors" }),
      ]),
    );
  }
  return last;
}
