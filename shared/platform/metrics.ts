import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { currentCorrelationId, logFormat } from "./logger.js";

/**
 * CloudWatch metrics through Powertools Metrics in Embedded Metric Format: one JSON log line per
 * data point that CloudWatch turns into a metric, with no API call on the request path.
 */
export const METRICS_NAMESPACE = "KapaService";
/** The `service` dimension on every metric (the alarms and the dashboard match on it). */
export const METRICS_SERVICE = "kapa-service";

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

const UNITS = { Count: MetricUnit.Count, Milliseconds: MetricUnit.Milliseconds, Seconds: MetricUnit.Seconds } as const;
export type MetricUnitName = keyof typeof UNITS;

/** One data point, or several of one metric in one line (`values`). */
export function putMetric(
  name: string,
  value: number | readonly number[],
  unit: MetricUnitName = "Count",
  dimensions: Record<string, string> = {},
): void {
  const values = typeof value === "number" ? [value] : value;
  // Readable local logs (LOG_FORMAT=pretty) carry no EMF: the access line says what matters.
  if (process.env.LOG_LEVEL === "silent" || logFormat() === "pretty" || values.length === 0) return;
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  const correlationId = currentCorrelationId();
  if (correlationId) single.addMetadata("correlation_id", correlationId);
  for (const v of values) single.addMetric(name, UNITS[unit], v);
}
