import type { CfnElement } from "aws-cdk-lib";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ALARM_THRESHOLDS, METRICS_SERVICE } from "../../infra/constructs/observability.js";
import { routeList } from "../../shared/http/routes.js";
import { METRICS_NAMESPACE, putMetric } from "../../shared/platform/metrics.js";
import { type CfnResource, fnLogicalIdOf, only, props, ref, resourcesIn, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, template } = synth();
const { observability, classification, backfill, reports, exports, api } = stack;
const logicalId = (element: CfnElement) => stack.getLogicalId(element);
const topicId = logicalId(observability.topic.node.defaultChild as CfnElement);
const alarms = resourcesIn(template, "AWS::CloudWatch::Alarm");

interface Dimension {
  Name: string;
  Value: unknown;
}
interface MetricRef {
  namespace: string;
  name: string;
  dimensions: Record<string, unknown>;
}

const dims = (list: Dimension[] | undefined) => Object.fromEntries((list ?? []).map((d) => [d.Name, d.Value]));
/** Dimensions in a stable order, to compare sets. */
const sameDimensions = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** The metrics an alarm watches: its own, or those of its metric math expression. */
function alarmMetrics(alarm: CfnResource): MetricRef[] {
  const p = props(alarm);
  if (p.MetricName) {
    return [
      { namespace: String(p.Namespace), name: String(p.MetricName), dimensions: dims(p.Dimensions as Dimension[]) },
    ];
  }
  return (
    (p.Metrics ?? []) as {
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Dimension[] } };
    }[]
  )
    .filter((m) => m.MetricStat)
    .map(({ MetricStat }) => ({
      namespace: MetricStat?.Metric.Namespace ?? "",
      name: MetricStat?.Metric.MetricName ?? "",
      dimensions: dims(MetricStat?.Metric.Dimensions),
    }));
}

const expressionOf = (alarm: CfnResource) =>
  ((props(alarm).Metrics ?? []) as { Expression?: string }[]).find((m) => m.Expression)?.Expression;

/** The alarms watching a metric with these dimensions. */
const alarmsOn = (namespace: string, name: string, dimensions: Record<string, unknown>) =>
  [...alarms.entries()].filter(([, alarm]) =>
    alarmMetrics(alarm).some(
      (m) => m.namespace === namespace && m.name === name && sameDimensions(m.dimensions, dimensions),
    ),
  );

const queueName = (queue: sqs.IQueue) => ({
  "Fn::GetAtt": [logicalId(queue.node.defaultChild as CfnElement), "QueueName"],
});
const functionName = (fn: Parameters<typeof fnLogicalIdOf>[1]) => ref(fnLogicalIdOf(stack, fn));

/** The dashboard body as JSON: CloudFormation references become the string "<ref>". */
function dashboardBody(): { widgets: { type: string; properties: Record<string, unknown> }[] } {
  const dashboard = only(resourcesIn(template, "AWS::CloudWatch::Dashboard").values(), "dashboard");
  const body = props(dashboard).DashboardBody as string | { "Fn::Join": [string, unknown[]] };
  const text =
    typeof body === "string" ? body : body["Fn::Join"][1].map((p) => (typeof p === "string" ? p : "<ref>")).join("");
  return JSON.parse(text);
}

/** Every metric a dashboard graph shows, as [namespace, name, ...dimension pairs]. */
function dashboardMetrics(): MetricRef[] {
  return dashboardBody()
    .widgets.filter((w) => w.type === "metric")
    .flatMap((w) => (w.properties.metrics ?? []) as unknown[][])
    .map((row) => {
      const fields = row.filter((f) => typeof f === "string") as string[];
      const [namespace = "", name = "", ...pairs] = fields;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
      return { namespace, name, dimensions };
    });
}

// Assess -------------------------------------------------------------------------------------

describe("alarm topic", () => {
  it("is one SNS topic under its own rotating KMS key, which CloudWatch may use", () => {
    template.resourceCountIs("AWS::SNS::Topic", 1);
    const topic = props(only(resourcesIn(template, "AWS::SNS::Topic").values(), "topic"));
    const keyId = logicalId(observability.topicKey.node.defaultChild as CfnElement);
    expect(topic.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [keyId, "Arn"] });
    const key = props(resourcesIn(template, "AWS::KMS::Key").get(keyId));
    expect(key.EnableKeyRotation).toBe(true);
    const statements = (key.KeyPolicy as { Statement: { Principal?: { Service?: string }; Action: unknown }[] })
      .Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      }),
    );
  });

  it("has no subscription unless kapa:alarmEmail is set", () => {
    template.resourceCountIs("AWS::SNS::Subscription", 0);
    const withEmail = synth({ "kapa:alarmEmail": "oncall@example.com" }).template;
    const subscription = props(only(resourcesIn(withEmail, "AWS::SNS::Subscription").values(), "subscription"));
    expect(subscription).toMatchObject({ Protocol: "email", Endpoint: "oncall@example.com", TopicArn: ref(topicId) });
    expect(() => synth({ "kapa:alarmEmail": "not an address" })).toThrow(/kapa:alarmEmail/);
  });

  it("receives the ALARM and OK transitions of every alarm in the stack", () => {
    expect(alarms.size).toBe(observability.alarms.length);
    for (const [id, alarm] of alarms) {
      expect(props(alarm).AlarmActions, id).toEqual([ref(topicId)]);
      expect(props(alarm).OKActions, id).toEqual([ref(topicId)]);
      expect(props(alarm).AlarmDescription, id).toEqual(expect.any(String));
    }
  });
});

describe("queue alarms", () => {
  const queues = [
    { name: "live", queue: classification.live, ageAlarm: true },
    { name: "backfill", queue: backfill.queue, ageAlarm: true },
    { name: "reports", queue: reports.jobs, ageAlarm: true },
  ];

  it.each(queues)("alarm once on any message in the $name dead-letter queue", ({ queue }) => {
    const found = alarmsOn("AWS/SQS", "ApproximateNumberOfMessagesVisible", {
      QueueName: queueName(queue.deadLetterQueue),
    });
    expect(found).toHaveLength(1);
    const alarm = props(found[0]?.[1]);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
  });

  it.each(queues)("alarm once on the age of the oldest message of the $name queue", ({ queue }) => {
    const found = alarmsOn("AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName: queueName(queue.queue) });
    expect(found).toHaveLength(1);
  });

  it("give the backfill queue half its retention before its age alarm fires", () => {
    const [[, alarm] = []] = alarmsOn("AWS/SQS", "ApproximateAgeOfOldestMessage", {
      QueueName: queueName(backfill.queue.queue),
    });
    expect(props(alarm).Threshold).toBe(5 * 24 * 3600);
    expect(ALARM_THRESHOLDS.backfillQueueAge.toDays()).toBe(5);
  });
});

describe("service alarms", () => {
  it("alarm on an API 5xx rate over 1% of at least 50 requests in 5 minutes, for the stage", () => {
    const stageDims = {
      ApiName: expect.any(String),
      Stage: ref(logicalId(api.restApi.deploymentStage.node.defaultChild as CfnElement)),
    };
    const cfn = alarms.get(logicalId(observability.api5xxRateAlarm.node.defaultChild as CfnElement));
    if (!cfn) throw new Error("No 5xx alarm");
    const metrics = alarmMetrics(cfn);
    expect(metrics.map((m) => m.name).sort()).toEqual(["5XXError", "Count"]);
    for (const m of metrics) {
      expect(m.namespace).toBe("AWS/ApiGateway");
      expect(m.dimensions).toEqual(stageDims);
    }
    expect(expressionOf(cfn)).toBe("IF(requests >= 50, 100 * FILL(errors, 0) / requests, 0)");
    expect(props(cfn)).toMatchObject({
      Threshold: 1,
      ComparisonOperator: "GreaterThanThreshold",
      EvaluationPeriods: 1,
      TreatMissingData: "notBreaching",
    });
    const periods = ((props(cfn).Metrics ?? []) as { MetricStat?: { Period: number } }[])
      .filter((m) => m.MetricStat)
      .map((m) => m.MetricStat?.Period);
    expect(periods).toEqual([300, 300]);
  });

  it("alarm on the classifier's Lambda error rate and on the messages it fails to label", () => {
    const classifier = { FunctionName: functionName(classification.classifier) };
    const lambdaRate = alarmsOn("AWS/Lambda", "Errors", classifier);
    expect(lambdaRate).toHaveLength(1);
    const [, rate] = lambdaRate[0] ?? [];
    expect(
      alarmMetrics(rate as CfnResource)
        .map((m) => m.name)
        .sort(),
    ).toEqual(["Errors", "Invocations"]);
    expect(props(rate)).toMatchObject({ Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 3 });

    const failures = alarmsOn(METRICS_NAMESPACE, "ClassificationFailures", { service: METRICS_SERVICE });
    expect(failures).toHaveLength(1);
    const [, failureRate] = failures[0] ?? [];
    expect(alarmMetrics(failureRate as CfnResource)).toContainEqual({
      namespace: METRICS_NAMESPACE,
      name: "LabelsWritten",
      dimensions: { service: METRICS_SERVICE, Source: "classifier" },
    });
  });

  it("alarm on sustained enqueue failures and on failing sweeper runs", () => {
    const enqueue = alarmsOn(METRICS_NAMESPACE, "ClassificationEnqueueFailures", { service: METRICS_SERVICE });
    expect(enqueue).toHaveLength(1);
    expect(props(enqueue[0]?.[1])).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 1 });
    const sweeper = alarmsOn("AWS/Lambda", "Errors", { FunctionName: functionName(classification.sweeper) });
    expect(sweeper).toHaveLength(1);
    expect(props(sweeper[0]?.[1])).toMatchObject({ Period: 3600, Threshold: 3 });
  });
});

describe("service alarms: backfill, reports and the whole set", () => {
  it("alarm on backfill executions that failed, timed out or were aborted", () => {
    const machine = { StateMachineArn: ref(logicalId(backfill.stateMachine.node.defaultChild as CfnElement)) };
    expect(alarmsOn("AWS/States", "ExecutionsFailed", machine)).toHaveLength(1);
    const unfinished = alarmsOn("AWS/States", "ExecutionsTimedOut", machine);
    expect(unfinished).toHaveLength(1);
    expect(
      alarmMetrics(unfinished[0]?.[1] as CfnResource)
        .map((m) => m.name)
        .sort(),
    ).toEqual(["ExecutionsAborted", "ExecutionsTimedOut"]);
  });

  it("alarm on report planner and sender errors", () => {
    for (const fn of [reports.planner, reports.sender]) {
      const found = alarmsOn("AWS/Lambda", "Errors", { FunctionName: functionName(fn) });
      expect(found, fn.node.path).toHaveLength(1);
      expect(props(found[0]?.[1]), fn.node.path).toMatchObject({ Threshold: 1, Period: 300 });
    }
  });

  it("are the collected ones plus this construct's, each once", () => {
    const collected = [
      ...classification.alarms,
      ...backfill.alarms,
      ...reports.alarms,
      ...exports.alarms,
      ...stack.webhooks.alarms,
    ];
    for (const alarm of collected) expect(observability.alarms).toContain(alarm);
    expect(new Set(observability.alarms).size).toBe(observability.alarms.length);
    // live DLQ + age + lost sweeper runs, backfill DLQ + failed executions, reports DLQ + age + lost
    // planner runs, exports DLQ + age, webhook deliveries and results DLQ + age and lost dispatcher
    // runs; and this construct's 9, and the 7 of constructs/health.ts.
    expect(collected).toHaveLength(15);
    expect(observability.alarms).toHaveLength(31);
  });
});

describe("dashboard", () => {
  const widgets = dashboardBody().widgets;
  const titles = widgets.map((w) => w.properties.title);
  const metrics = dashboardMetrics();
  const shows = (namespace: string, name: string, dimensions?: Record<string, string>) =>
    metrics.some(
      (m) => m.namespace === namespace && m.name === name && (!dimensions || sameDimensions(m.dimensions, dimensions)),
    );

  it("is one dashboard, with every alarm at the top", () => {
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    expect(widgets[0]?.type).toBe("alarm");
    expect((widgets[0]?.properties.alarms as unknown[] | undefined)?.length).toBe(observability.alarms.length);
  });

  it("has the widgets the runbook refers to", () => {
    expect(titles).toEqual([
      "Alarms",
      "Chat latency (ms)",
      "API requests and errors",
      "Classification enqueue failures",
      "Time to label (s)",
      "Labels written per source",
      "Queue depth (visible messages)",
      "Oldest message age (s)",
      "Dead-letter queue depths",
      "Classifier invocations and errors",
      "Backfill executions",
      "Report sends",
      "API latency (ms)",
      "RDS Proxy connections",
      "Aurora capacity",
    ]);
  });

  it("graphs the app metrics with the dimensions the code emits", () => {
    const service = { service: METRICS_SERVICE };
    expect(shows(METRICS_NAMESPACE, "RequestLatency", { ...service, Route: "chat" })).toBe(true);
    expect(shows(METRICS_NAMESPACE, "ClassificationEnqueueFailures", service)).toBe(true);
    expect(shows(METRICS_NAMESPACE, "TimeToLabel", service)).toBe(true);
    expect(shows(METRICS_NAMESPACE, "LabelsWritten", { ...service, Source: "classifier" })).toBe(true);
    expect(shows(METRICS_NAMESPACE, "LabelsWritten", { ...service, Source: "user" })).toBe(true);
    expect(shows(METRICS_NAMESPACE, "SweeperRequeued", service)).toBe(true);
    expect(shows(METRICS_NAMESPACE, "BackfillEnqueued", service)).toBe(true);
    // p50 and p99 of the chat latency and of the time to label.
    const body = JSON.stringify(dashboardBody());
    expect(body.match(/"stat":"p99"/g)?.length).toBeGreaterThanOrEqual(2);
    expect(body.match(/"stat":"p50"/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it("graphs the API, the queues, the classifier, the backfill and the reports", () => {
    for (const name of ["Count", "4XXError", "5XXError"]) expect(shows("AWS/ApiGateway", name), name).toBe(true);
    const sqsMetrics = metrics.filter((m) => m.namespace === "AWS/SQS").map((m) => m.name);
    // Depth and age of the live, backfill and report queues, the depth of their DLQs, teams reported.
    expect(sqsMetrics.filter((n) => n === "ApproximateNumberOfMessagesVisible")).toHaveLength(6);
    expect(sqsMetrics.filter((n) => n === "ApproximateAgeOfOldestMessage")).toHaveLength(3);
    for (const name of ["Invocations", "Errors", "Throttles", "ConcurrentExecutions"]) {
      expect(shows("AWS/Lambda", name), name).toBe(true);
    }
    for (const name of [
      "ExecutionsStarted",
      "ExecutionsSucceeded",
      "ExecutionsFailed",
      "ExecutionsTimedOut",
      "ExecutionsAborted",
    ]) {
      expect(shows("AWS/States", name), name).toBe(true);
    }
    expect(shows("AWS/SQS", "NumberOfMessagesDeleted")).toBe(true);
  });
});

describe("app metrics contract (shared/platform/metrics.ts)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** What Powertools writes for one data point: namespace, dimension set and values. */
  function emitted(name: string, dimensions: Record<string, string>) {
    const lines: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = "info";
    try {
      putMetric(name, 1, "Count", dimensions);
    } finally {
      process.env.LOG_LEVEL = level;
      vi.restoreAllMocks();
    }
    const emf = JSON.parse(only(lines, `EMF line of ${name}`)) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    };
    const directive = only(emf._aws.CloudWatchMetrics, "metric directive");
    const set = only(directive.Dimensions, "dimension set");
    return {
      namespace: directive.Namespace,
      dimensions: Object.fromEntries(set.map((key) => [key, emf[key]])),
    };
  }

  it("every app metric of the alarms and the dashboard is exactly what the code emits", () => {
    const referenced = [...[...alarms.values()].flatMap(alarmMetrics), ...dashboardMetrics()].filter(
      (m) => m.namespace === METRICS_NAMESPACE,
    );
    expect(referenced.length).toBeGreaterThan(10);
    for (const metric of referenced) {
      const { service, ...own } = metric.dimensions as Record<string, string>;
      expect(service, metric.name).toBe(METRICS_SERVICE);
      const out = emitted(metric.name, own);
      expect(out.namespace, metric.name).toBe(METRICS_NAMESPACE);
      // CloudWatch matches the exact dimension set: the same keys, the same values.
      expect(out.dimensions, metric.name).toEqual(metric.dimensions);
    }
  });

  it("the chat latency's Route is the chat route's operationId", () => {
    const chat = routeList.find((r) => r.path.endsWith("/chat") && r.method === "POST");
    expect(chat?.operationId).toBe("chat");
    expect(api.handlers.has("chat")).toBe(true);
  });
});
