import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createSqsClient } from "../shared/aws.js";
import type { Env } from "../shared/config.js";
import { type EventSource, startEventSource } from "./event-source.js";
import { every } from "./scheduler.js";
import { createQueueWithDlq, type QueueWithDlq } from "./sqs.js";

/** As in the CDK stack: poison messages go to the DLQ after this many receives. */
export const MAX_RECEIVE_COUNT = 5;

export interface ClassificationPipelineOptions {
  env: Env;
  /** How long a received message stays invisible (AWS: 6x the classifier's timeout). */
  visibilityTimeoutSeconds: number;
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
 * DLQ, the classifier handler behind an event source mapping with the configured batch size and
 * maxConcurrency, and the sweeper on a schedule. Call after AWS_ENDPOINT_URL_SQS is set.
 */
export async function startClassificationPipeline(
  options: ClassificationPipelineOptions,
): Promise<ClassificationPipeline> {
  const sqs = createSqsClient();
  const queues = await createQueueWithDlq(sqs, options.queueName ?? "kapa-classification", {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  });
  // The handlers read the queue from the environment, as in Lambda.
  process.env.CLASSIFICATION_QUEUE_URL = queues.queueUrl;
  const classifier = (await import("../functions/classifier.js")) as {
    handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  };
  const sweeper = (await import("../functions/sweeper.js")) as { handler: () => Promise<unknown> };
  const eventSource = startEventSource({
    sqs,
    queueUrl: queues.queueUrl,
    batchSize: options.env.CLASSIFIER_BATCH_SIZE,
    maxConcurrency: options.env.CLASSIFIER_MAX_CONCURRENCY,
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
