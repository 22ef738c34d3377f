import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * The SQS client of a process. Requests go to the configured endpoint (the regional one in AWS,
 * AWS_ENDPOINT_URL_SQS locally) rather than to the host named in a queue URL, which an emulator
 * may spell in a way that does not resolve.
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({ useQueueUrlAsEndpoint: false });
}
