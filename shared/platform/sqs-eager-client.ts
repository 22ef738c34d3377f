import { SQSClient } from "@aws-sdk/client-sqs";
import { type SqsClientOptions, sqsClientConfig } from "./sqs-sender.js";

/**
 * The SDK's SQS client with every process's settings (shared/platform/sqs-sender.ts), built at once: for
 * the local runtime, the CLI, tests and benchmarks, which need one before anything is sent.
 * Functions send through the runtime's LazySqsClient instead.
 */
export function createSqsClient(options: SqsClientOptions = {}): SQSClient {
  return new SQSClient(sqsClientConfig(options));
}
