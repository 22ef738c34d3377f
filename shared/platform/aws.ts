import { SQSClient } from "@aws-sdk/client-sqs";
import { SQS_CLIENT_CONFIG } from "./sqs.js";

/** An SQS client with the settings of every process (shared/platform/sqs.ts), for code that needs one now. */
export function createSqsClient(): SQSClient {
  return new SQSClient(SQS_CLIENT_CONFIG);
}
