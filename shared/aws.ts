import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * The SQS client of a process. Requests go to the configured endpoint (the regional one in AWS,
 * AWS_ENDPOINT_URL_SQS locally) rather than to the host named in a queue URL, which an emulator
 * may spell in a way that does not resolve. Timeouts are short: a queue that does not answer must
 * not hold a chat request (the sweeper catches up on what was not sent).
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({
    useQueueUrlAsEndpoint: false,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
  });
}
