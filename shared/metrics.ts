/**
 * CloudWatch Embedded Metric Format: one JSON log line per metric that CloudWatch turns into a
 * metric, with no API call on the request path.
 */
export const METRICS_NAMESPACE = "KapaService";

export type MetricUnit = "Count" | "Milliseconds" | "Seconds";

export function putMetric(
  name: string,
  value: number,
  unit: MetricUnit = "Count",
  dimensions: Record<string, string> = {},
): void {
  if (process.env.LOG_LEVEL === "silent") return;
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [Object.keys(dimensions)], Metrics: [{ Name: name, Unit: unit }] },
      ],
    },
    ...dimensions,
    [name]: value,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
