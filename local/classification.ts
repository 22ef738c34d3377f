import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Env } from "../shared/platform/config.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { type EventSource, startEventSource } from "./event-source.js";
import { consumerSettings, mappingOf } from "./harness.js";
import { every } from "./scheduler.js";
import { createQueueWithDlq, type QueueWithDlq } from "./sqs.js";

export interface ClassificationPipelineOptions {
  env: Env;
  /** How long a received message stays invisible (a test's deviation; AWS: the template's, 6x the classifier's timeout). */
  visibilityTimeoutSeconds: number;
  /** The event source's cap. @default the template's live mapping's */
  maxConcurrency?: number;
  /** Messages per invocation. @default the template's live mapping's */
  batchSize?: number;
  /** Run the sweeper every this many ms (0: not at all). */
  sweeperIntervalMs: number;
  queueName?: string;
}

export interface ClassificationPipeline extends QueueWithDlq {
  eventSource: EventSource;
  stop(): Promise<void>;
}

/**
 * The classification pipeline of the CDK stack on the local SQS emulator: the live queue and its
 * DLQ, the classifier handler behind an event source mapping with the template's batch size,
 * batching window, maxConcurrency and maxReceiveCount (local/harness.ts), and the sweeper on a
 * schedule. In this process (tests reach the handlers' runtime); `npm start` runs local/world.ts. Call after AWS_ENDPOINT_URL_SQS is set.
 */
export async function startClassificationPipeline(
  options: ClassificationPipelineOptions,
): Promise<ClassificationPipeline> {
  const sqs = createSqsClient();
  const settings = await consumerSettings("live");
  const queues = await createQueueWithDlq(sqs, options.queueName ?? "kapa-classification", {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: settings.maxReceiveCount,
  });
  // The handlers read the queue from the environment, as in Lambda.
  process.env.CLASSIFICATION_QUEUE_URL = queues.queueUrl;
  const classifier = (await import("../functions/classifier.js")) as {
    handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  };
  const sweeper = (await import("../functions/sweeper.js")) as { handler: () => Promise<unknown> };
  const eventSource = startEventSource({
    queueUrl: queues.queueUrl,
    ...mappingOf(settings),
    batchSize: options.batchSize ?? settings.batchSize,
    maxConcurrency: options.maxConcurrency ?? settings.maxConcurrency,
    handler: classifier.handler,
  });
  const sweeping = options.sweeperIntervalMs > 0 ? every("sweeper", options.sweeperIntervalMs, sweeper.handler) : null;
  return {
    ...queues,
    eventSource,
    async stop() {
      await sweeping?.stop();
      await eventSource.stop();
      sqs.destroy();
    },
  };
}
