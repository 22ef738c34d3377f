import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * The SQS client of a process. Requests go to the configured endpoint (the regional one in AWS,
 * AWS_ENDPOINT_URL_SQS locally) rather than to the host named in a queue URL, which an emulator
 * may spell in a way that does not resolve. The chat never waits on a send for long whatever these
 * timeouts are (it races the send against a short grace; the sweeper catches up on what was not
 * sent). The connection timeout counts the wait for a free socket of the client's pool too, so it
 * leaves room for a busy process (a 1 s one failed requests under load that were never sent).
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({
    useQueueUrlAsEndpoint: false,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 10_000 },
  });
}
