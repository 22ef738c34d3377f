import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as rds from "aws-cdk-lib/aws-rds";
import type { Construct } from "constructs";
import type { Api } from "./api.js";
import type { Database } from "./database.js";

/**
 * Alarms and dashboard widgets of the dependencies every request goes through: the API's latency,
 * the database (RDS Proxy and the Aurora cluster) and SES's sending reputation. Thresholds here,
 * the runbook in docs/aws-operations.md.
 */
export const HEALTH_THRESHOLDS = {
  /** API Gateway's p99 latency (ms, the whole request), for 15 minutes, when at least... */
  apiP99LatencyMs: 10_000,
  /** ...this many requests came in each 5 minutes (a p99 of a handful is noise). */
  apiLatencyMinRequests: 50,
  /** Database connections of the proxy that are pinned, % of its database connections, for 15 minutes... */
  proxyPinnedPercent: 25,
  /** ...when the proxy holds at least this many database connections. */
  proxyPinnedMinConnections: 4,
  /** RDS Proxy's health checks of the writer that succeeded, % (average over 5 minutes, 3 in a row). */
  proxyAvailabilityPercent: 100,
  /** Client connections the proxy refused at authentication within 5 minutes (a secret out of step). */
  proxyAuthFailures: 5,
  /** The cluster's Aurora Serverless v2 capacity in use, % of its maximum, for 15 minutes: raise kapa:dbMaxCapacity. */
  clusterAcuUtilizationPercent: 90,
  /**
   * SES account reputation: AWS reviews an account at a 5% bounce rate and a 0.1% complaint rate
   * (https://docs.aws.amazon.com/ses/latest/dg/reputation-dashboard-dg.html): alarm below them.
   */
  sesBounceRate: 0.04,
  sesComplaintRate: 0.0008,
} as const;

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

export interface HealthProps {
  api: Api;
  database: Database;
}

export interface Health {
  alarms: cloudwatch.Alarm[];
  widgets: cloudwatch.IWidget[];
}

/** An RDS Proxy metric of the whole proxy (dimension set 1, ProxyName). */
function proxyMetric(proxy: rds.DatabaseProxy, metricName: string, statistic: string, period = FIVE_MINUTES) {
  return new cloudwatch.Metric({
    namespace: "AWS/RDS",
    metricName,
    dimensionsMap: { ProxyName: proxy.dbProxyName },
    statistic,
    period,
  });
}

const sustained = { evaluationPeriods: 3, datapointsToAlarm: 3 } as const;
const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;

function apiLatencyAlarm(scope: Construct, api: Api): cloudwatch.Alarm {
  const t = HEALTH_THRESHOLDS;
  const stage = api.restApi.deploymentStage;
  return new cloudwatch.MathExpression({
    label: "API p99 latency (ms)",
    expression: `IF(requests >= ${t.apiLatencyMinRequests}, latency, 0)`,
    usingMetrics: {
      requests: stage.metricCount({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      latency: stage.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(99) }),
    },
    period: FIVE_MINUTES,
  }).createAlarm(scope, "ApiLatencyAlarm", {
    alarmDescription: `API: p99 latency above ${t.apiP99LatencyMs} ms for 15 minutes (at least ${t.apiLatencyMinRequests} requests per 5 minutes). Check the database (proxy borrow latency, ACUs) and the LLM.`,
    threshold: t.apiP99LatencyMs,
    comparisonOperator: above,
    ...sustained,
    treatMissingData: notBreaching,
  });
}

/** The RDS Proxy's alarms (none without a proxy: the dev profile). */
function proxyAlarms(scope: Construct, proxy: rds.DatabaseProxy | undefined): cloudwatch.Alarm[] {
  if (!proxy) return [];
  const t = HEALTH_THRESHOLDS;
  const sum = cloudwatch.Stats.SUM;
  // Pinning: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-pinning.html
  const pinned = new cloudwatch.MathExpression({
    label: "Pinned database connections %",
    expression: `IF(connections >= ${t.proxyPinnedMinConnections}, 100 * FILL(pinned, 0) / connections, 0)`,
    usingMetrics: {
      pinned: proxyMetric(proxy, "DatabaseConnectionsCurrentlySessionPinned", sum),
      connections: proxyMetric(proxy, "DatabaseConnections", sum),
    },
    period: FIVE_MINUTES,
  }).createAlarm(scope, "ProxyPinningAlarm", {
    alarmDescription: `RDS Proxy: more than ${t.proxyPinnedPercent}% of its database connections pinned to one client session for 15 minutes (DatabaseConnectionsCurrentlySessionPinned): the pool does not multiplex. Look for SET, prepared statements, temporary tables or advisory locks in the client code (the proxy logs say which).`,
    threshold: t.proxyPinnedPercent,
    comparisonOperator: above,
    ...sustained,
    treatMissingData: notBreaching,
  });
  const availability = new cloudwatch.Metric({
    namespace: "AWS/RDS",
    metricName: "AvailabilityPercentage",
    dimensionsMap: { ProxyName: proxy.dbProxyName, TargetGroup: "default", TargetRole: "READ_WRITE" },
    statistic: cloudwatch.Stats.AVERAGE,
    period: FIVE_MINUTES,
  }).createAlarm(scope, "ProxyAvailabilityAlarm", {
    alarmDescription:
      "RDS Proxy: its health checks of the writer failed for 15 minutes (AvailabilityPercentage): the database is down, failing over or unreachable from the proxy. API requests answer 503.",
    threshold: t.proxyAvailabilityPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    ...sustained,
    // No data from the proxy at all is as bad as failed checks.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  const auth = proxyMetric(proxy, "ClientConnectionsSetupFailedAuth", sum).createAlarm(scope, "ProxyAuthAlarm", {
    alarmDescription: `RDS Proxy: ${t.proxyAuthFailures} or more client connections failed authentication in 5 minutes: a function's credentials do not match the secret (rotation, or a role without a login).`,
    threshold: t.proxyAuthFailures,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: notBreaching,
  });
  return [pinned, availability, auth];
}

function clusterCapacityAlarm(scope: Construct, database: Database): cloudwatch.Alarm {
  const t = HEALTH_THRESHOLDS;
  return database.cluster
    .metricACUUtilization({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.AVERAGE })
    .createAlarm(scope, "ClusterCapacityAlarm", {
      alarmDescription: `Aurora: more than ${t.clusterAcuUtilizationPercent}% of the maximum capacity in use for 15 minutes (ACUUtilization): queries slow down; raise kapa:dbMaxCapacity.`,
      threshold: t.clusterAcuUtilizationPercent,
      comparisonOperator: above,
      ...sustained,
      treatMissingData: notBreaching,
    });
}

/** SES's account-level reputation metrics (namespace AWS/SES, no dimension). */
function sesAlarms(scope: Construct): cloudwatch.Alarm[] {
  const t = HEALTH_THRESHOLDS;
  const rate = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: "AWS/SES",
      metricName,
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.hours(1),
    });
  return [
    rate("Reputation.BounceRate").createAlarm(scope, "SesBounceRateAlarm", {
      alarmDescription: `SES: the account's bounce rate is above ${t.sesBounceRate * 100}% (AWS reviews the account at 5%). Bounced addresses are suppressed; check the users' addresses.`,
      threshold: t.sesBounceRate,
      comparisonOperator: above,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    }),
    rate("Reputation.ComplaintRate").createAlarm(scope, "SesComplaintRateAlarm", {
      alarmDescription: `SES: the account's complaint rate is above ${t.sesComplaintRate * 100}% (AWS reviews the account at 0.1%).`,
      threshold: t.sesComplaintRate,
      comparisonOperator: above,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    }),
  ];
}

function widgets(api: Api, database: Database): cloudwatch.IWidget[] {
  const stage = api.restApi.deploymentStage;
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
  const { proxy } = database;
  const proxyGraph = (p: rds.DatabaseProxy) => {
    const metric = (name: string, label: string) =>
      proxyMetric(p, name, cloudwatch.Stats.SUM, ONE_MINUTE).with({ label });
    return graph(
      "RDS Proxy connections",
      [
        metric("ClientConnections", "client"),
        metric("DatabaseConnections", "database"),
        metric("DatabaseConnectionsCurrentlySessionPinned", "pinned"),
        metric("DatabaseConnectionsCurrentlyBorrowed", "borrowed"),
      ],
      [
        proxyMetric(p, "DatabaseConnectionsBorrowLatency", cloudwatch.Stats.p(99), ONE_MINUTE).with({
          label: "borrow latency p99 (µs)",
        }),
      ],
    );
  };
  return [
    graph("API latency (ms)", [
      stage.metricLatency({ period: ONE_MINUTE, statistic: cloudwatch.Stats.p(50), label: "p50" }),
      stage.metricLatency({ period: ONE_MINUTE, statistic: cloudwatch.Stats.p(99), label: "p99" }),
    ]),
    ...(proxy ? [proxyGraph(proxy)] : []),
    graph(
      "Aurora capacity",
      [
        database.cluster.metricServerlessDatabaseCapacity({
          period: ONE_MINUTE,
          statistic: cloudwatch.Stats.MAXIMUM,
          label: "ACUs",
        }),
      ],
      [
        database.cluster.metricACUUtilization({
          period: ONE_MINUTE,
          statistic: cloudwatch.Stats.MAXIMUM,
          label: "% of max ACUs",
        }),
      ],
    ),
  ];
}

/** The health alarms (API latency, database, SES) and the dashboard row that goes with them. */
export function serviceHealth(scope: Construct, props: HealthProps): Health {
  return {
    alarms: [
      apiLatencyAlarm(scope, props.api),
      ...proxyAlarms(scope, props.database.proxy),
      clusterCapacityAlarm(scope, props.database),
      ...sesAlarms(scope),
    ],
    widgets: widgets(props.api, props.database),
  };
}
