import { CreateBucketCommand } from "@aws-sdk/client-s3";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { EXPORT_QUEUE_SETTINGS } from "../shared/exports/queue.js";
import { createS3Client } from "../shared/exports/s3.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { type EventSource, startEventSource } from "./event-source.js";
import { createQueueWithDlq, type QueueWithDlq } from "./sqs.js";

export interface ExportPipelineOptions {
  /** The S3 endpoint when AWS_ENDPOINT_URL_S3 does not name one: the local fauxqs (it serves S3 too). */
  s3Endpoint: string;
  /** How long a received export job stays invisible (AWS: 6x the worker's timeout). */
  visibilityTimeoutSeconds: number;
  queueName?: string;
  bucket?: string;
}

export interface ExportPipeline extends QueueWithDlq {
  bucket: string;
  s3Endpoint: string;
  eventSource: EventSource;
  stop(): Promise<void>;
}

/**
 * The export pipeline of the CDK stack on this machine: the export bucket on the S3 emulator, the
 * export queue and its DLQ on the SQS emulator, and the worker Lambda behind an event source
 * mapping (batch size and concurrency as in the stack). The handlers read EXPORT_BUCKET,
 * EXPORT_QUEUE_URL and AWS_ENDPOINT_URL_S3 from the environment, as in Lambda; set here.
 * Call after `useLocalAws({ sqs })`.
 */
export async function startExportPipeline(options: ExportPipelineOptions): Promise<ExportPipeline> {
  process.env.AWS_ENDPOINT_URL_S3 ??= options.s3Endpoint;
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3;
  const bucket = options.bucket ?? "kapa-exports";
  const s3 = createS3Client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  const sqs = createSqsClient();
  const queues = await createQueueWithDlq(sqs, options.queueName ?? "kapa-exports", {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: EXPORT_QUEUE_SETTINGS.maxReceiveCount,
  });
  process.env.EXPORT_BUCKET = bucket;
  process.env.EXPORT_QUEUE_URL = queues.queueUrl;
  const worker = (await import("../functions/export-worker.js")) as {
    handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  };
  const eventSource = startEventSource({
    queueUrl: queues.queueUrl,
    batchSize: EXPORT_QUEUE_SETTINGS.batchSize,
    maxConcurrency: EXPORT_QUEUE_SETTINGS.maxConcurrency,
    handler: worker.handler,
  });
  return {
    ...queues,
    bucket,
    s3Endpoint,
    eventSource,
    async stop() {
      await eventSource.stop();
      sqs.destroy();
    },
  };
}
