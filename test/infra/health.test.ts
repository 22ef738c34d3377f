import type { CfnElement } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { HEALTH_THRESHOLDS } from "../../infra/constructs/health.js";
import { type CfnResource, props, resourcesIn, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const { stack, template } = synth();
const proxyName = stack.resolve(stack.database.proxy?.dbProxyName);
const clusterId = stack.getLogicalId(stack.database.cluster.node.defaultChild as CfnElement);
const alarms = [...resourcesIn(template, "AWS::CloudWatch::Alarm").values()];

interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
  Stat: string;
}
/** The metrics an alarm watches, its own or those of its expression. */
function watched(alarm: CfnResource): (MetricStat["Metric"] & { Stat?: string })[] {
  const p = props(alarm);
  if (p.MetricName) {
    return [
      {
        Namespace: p.Namespace as string,
        MetricName: p.MetricName as string,
        Dimensions: p.Dimensions as MetricStat["Metric"]["Dimensions"],
        Stat: (p.Statistic ?? p.ExtendedStatistic) as string,
      },
    ];
  }
  return ((p.Metrics ?? []) as { MetricStat?: MetricStat }[])
    .filter((m) => m.MetricStat)
    .map((m) => ({ ...(m.MetricStat as MetricStat).Metric, Stat: m.MetricStat?.Stat }));
}
const alarmOn = (namespace: string, name: string) => {
  const found = alarms.filter((a) => watched(a).some((m) => m.Namespace === namespace && m.MetricName === name));
  expect(found, `${namespace} ${name}`).toHaveLength(1);
  return found[0] as CfnResource;
};
const dimensionsOf = (alarm: CfnResource, name: string) =>
  Object.fromEntries(
    (watched(alarm).find((m) => m.MetricName === name)?.Dimensions ?? []).map((d) => [d.Name, d.Value]),
  );
/** The dashboard body's text (a Fn::Join of JSON pieces), unescaped. */
const dashboard = JSON.stringify(
  (resourcesIn(template, "AWS::CloudWatch::Dashboard").values().next().value as CfnResource).Properties?.DashboardBody,
).replaceAll('\\"', '"');

// Assess -------------------------------------------------------------------------------------

describe("RDS Proxy", () => {
  it("alarms when pinned connections (DatabaseConnectionsCurrentlySessionPinned) are a sustained share of its connections", () => {
    const alarm = alarmOn("AWS/RDS", "DatabaseConnectionsCurrentlySessionPinned");
    expect(dimensionsOf(alarm, "DatabaseConnectionsCurrentlySessionPinned")).toEqual({ ProxyName: proxyName });
    expect(watched(alarm).map((m) => m.MetricName)).toContain("DatabaseConnections");
    expect(props(alarm)).toMatchObject({
      Threshold: HEALTH_THRESHOLDS.proxyPinnedPercent,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it("alarms when its health checks of the writer fail, or when clients fail to authenticate", () => {
    const availability = alarmOn("AWS/RDS", "AvailabilityPercentage");
    expect(dimensionsOf(availability, "AvailabilityPercentage")).toEqual({
      ProxyName: proxyName,
      TargetGroup: "default",
      TargetRole: "READ_WRITE",
    });
    expect(props(availability)).toMatchObject({
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    expect(
      dimensionsOf(alarmOn("AWS/RDS", "ClientConnectionsSetupFailedAuth"), "ClientConnectionsSetupFailedAuth"),
    ).toEqual({ ProxyName: proxyName });
  });

  it("shows client, database and pinned connections on the dashboard", () => {
    for (const name of ["ClientConnections", "DatabaseConnections", "DatabaseConnectionsCurrentlySessionPinned"]) {
      expect(dashboard).toContain(`"AWS/RDS","${name}","ProxyName"`);
    }
  });
});

describe("Aurora cluster", () => {
  it("alarms when its capacity nears the maximum, and shows its ACUs on the dashboard", () => {
    const alarm = alarmOn("AWS/RDS", "ACUUtilization");
    expect(JSON.stringify(dimensionsOf(alarm, "ACUUtilization"))).toContain(clusterId);
    expect(props(alarm).Threshold).toBe(HEALTH_THRESHOLDS.clusterAcuUtilizationPercent);
    expect(dashboard).toContain('"AWS/RDS","ServerlessDatabaseCapacity","DBClusterIdentifier"');
  });
});

describe("API", () => {
  it("alarms on a sustained p99 latency of the stage (with enough requests), and graphs p50 and p99", () => {
    const alarm = alarmOn("AWS/ApiGateway", "Latency");
    expect(watched(alarm).find((m) => m.MetricName === "Latency")?.Stat).toBe("p99");
    expect(props(alarm)).toMatchObject({ Threshold: HEALTH_THRESHOLDS.apiP99LatencyMs, EvaluationPeriods: 3 });
    expect(dashboard).toContain('"AWS/ApiGateway","Latency"');
  });
});

describe("SES", () => {
  it("alarms on the account's bounce and complaint rates below the levels at which AWS reviews the account", () => {
    expect(props(alarmOn("AWS/SES", "Reputation.BounceRate")).Threshold).toBeLessThan(0.05);
    expect(props(alarmOn("AWS/SES", "Reputation.ComplaintRate")).Threshold).toBeLessThan(0.001);
  });
});
