import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";

/**
 * The local SQS: the fauxqs emulator (the SQS API over HTTP, in this process, in memory). Handlers
 * reach it through the standard AWS_ENDPOINT_URL_SQS variable, so their code is the Lambda code.
 * Messages do not survive a restart; the sweeper re-sends unlabelled threads. Its app is built
 * here and listens on loopback only (fauxqs's startFauxqs listens on every interface).
 */
export async function startLocalSqs(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const app = buildApp({ logger: false });
  await app.listen({ port, host: "127.0.0.1" });
  const address = app.server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return { endpoint: `http://127.0.0.1:${actualPort}`, stop: () => app.close() };
}

/** Points the AWS SDK of this process at the local emulators (dummy credentials, fixed region). */
export function useLocalAws(endpoints: { sqs?: string }): void {
  // Locally we run Node 20; Lambda runs 22 or newer, so the SDK's reminder is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  if (endpoints.sqs) process.env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
}

export interface QueueWithDlq {
  queueUrl: string;
  dlqUrl: string;
}

/** A queue and its dead-letter queue, as the CDK stack defines them (redrive after maxReceiveCount). */
export async function createQueueWithDlq(
  sqs: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<QueueWithDlq> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl as string;
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
          maxReceiveCount: options.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl as string, dlqUrl };
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
