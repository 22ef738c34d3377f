import { join } from "node:path";
import { loadStack, REPO_ROOT, type SynthesizedStack } from "./template.js";
import { referencedId, topologyOf } from "./topology.js";

/**
 * What the in-process pipelines (local/classification.ts, local/reports.ts, local/backfill.ts:
 * tests, benchmarks, `npx kapa backfill` without npm start) take from the synthesized template
 * instead of restating it: a queue's redrive and visibility, and its event source mapping.
 */
export const HARNESS_CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "kapa");

export interface ConsumerSettings {
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  batchSize: number;
  batchingWindowSeconds: number;
  maxConcurrency: number;
  reportBatchItemFailures: boolean;
}

/** The stack outputs that name each pipeline's queue. */
const QUEUE_OUTPUTS = {
  live: "ClassificationQueueUrl",
  backfill: "BackfillQueueUrl",
  reports: "ReportQueueUrl",
} as const;

export type HarnessQueue = keyof typeof QUEUE_OUTPUTS;

/** A consumer's event source mapping as the template has it (startEventSource's options). */
export function mappingOf(settings: ConsumerSettings) {
  const { batchSize, batchingWindowSeconds, maxConcurrency, reportBatchItemFailures } = settings;
  return { batchSize, batchingWindowSeconds, maxConcurrency, reportBatchItemFailures };
}

export async function consumerSettings(queue: HarnessQueue): Promise<ConsumerSettings> {
  return consumerSettingsOf(await loadStack({ cacheDir: HARNESS_CACHE_DIR }), queue);
}

export function consumerSettingsOf(stack: SynthesizedStack, queue: HarnessQueue): ConsumerSettings {
  const topology = topologyOf(stack);
  const id = referencedId(stack.template.Outputs?.[QUEUE_OUTPUTS[queue]]?.Value);
  const settings = id ? topology.queues[id] : undefined;
  const mapping = topology.eventSources.find((m) => m.queueId === id);
  if (!settings?.redrive || !mapping) throw new Error(`The template's ${queue} queue has no DLQ or no consumer`);
  return {
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    maxReceiveCount: settings.redrive.maxReceiveCount,
    batchSize: mapping.batchSize,
    batchingWindowSeconds: mapping.batchingWindowSeconds,
    maxConcurrency: mapping.maxConcurrency ?? 5,
    reportBatchItemFailures: mapping.reportBatchItemFailures,
  };
}
