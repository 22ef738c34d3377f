import type { Message } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "../shared/platform/logger.js";
import { SqsPollerClient } from "./sqs-poller-client.js";

/**
 * Plays Lambda's SQS event source mapping: up to `maxConcurrency` invocations at once, each with
 * a batch of up to `batchSize` messages; messages the handler reports as failed (or all of them,
 * if it throws) are left on the queue to come back after the visibility timeout, and the queue's
 * redrive policy moves them to the DLQ after maxReceiveCount receives. It polls with a client of
 * its own (AWS_ENDPOINT_URL_SQS), as Lambda's pollers are not the function's.
 */
export interface EventSourceOptions {
  queueUrl: string;
  queueArn?: string;
  batchSize: number;
  maxConcurrency: number;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  /** How long to gather messages into a batch after the first arrives (MaximumBatchingWindowInSeconds). @default 0 */
  batchingWindowSeconds?: number;
  /** Honour the handler's batchItemFailures (FunctionResponseTypes ReportBatchItemFailures); without it a success deletes the whole batch. @default true */
  reportBatchItemFailures?: boolean;
  /** Long-poll wait per receive; also how quickly stop() returns. */
  waitSeconds?: number;
}

export interface EventSource {
  stop(): Promise<void>;
  /** Invocations so far and the most that ran at once (for tests and benchmarks). */
  stats(): { invocations: number; peakConcurrency: number };
  /** What it polls and how (the fidelity test compares it with the template). */
  readonly settings: Readonly<Omit<EventSourceOptions, "handler">>;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: process.env.AWS_REGION ?? "us-east-1",
  };
}

/** One event source mapping's pollers, invocations and deletes, with the counts `stats()` reports. */
class EventSourceMapping {
  running = true;
  invocations = 0;
  peakConcurrency = 0;
  private active = 0;
  // As in Lambda, the invocation's slot is free once the function returns: the mapping deletes
  // the batch's messages meanwhile. A delete that fails only lets them come back (harmless: the
  // handler is idempotent), as in AWS.
  readonly deleting = new Set<Promise<void>>();

  constructor(
    private readonly options: EventSourceOptions,
    private readonly queueArn: string,
    readonly sqs: SqsPollerClient,
  ) {}

  private async deliver(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, this.queueArn)) };
    let failed: Set<string>;
    this.active++;
    this.invocations++;
    this.peakConcurrency = Math.max(this.peakConcurrency, this.active);
    try {
      const response = await this.options.handler(event);
      const reported = this.options.reportBatchItemFailures === false ? [] : (response?.batchItemFailures ?? []);
      failed = new Set(reported.map((f) => f.itemIdentifier));
    } catch (error) {
      logger.error("event source: invocation failed, the whole batch returns to the queue", { error });
      failed = new Set(event.Records.map((r) => r.messageId));
    } finally {
      this.active--;
    }
    const done = event.Records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) this.deleteInBackground(done);
  }

  private deleteInBackground(records: SQSRecord[]): void {
    const entries = records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle }));
    const deletion = this.sqs
      .deleteMessageBatch({ QueueUrl: this.options.queueUrl, Entries: entries })
      .then(
        () => undefined,
        (error: unknown) => logger.warn("event source: delete failed, the messages will come back", { error }),
      )
      .finally(() => this.deleting.delete(deletion));
    this.deleting.add(deletion);
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const received = await this.sqs.receiveMessage({
      QueueUrl: this.options.queueUrl,
      MaxNumberOfMessages: Math.min(max, 10),
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ["All"],
    });
    return received.Messages ?? [];
  }

  /** A batch: the first messages, then more until the batch is full or the batching window has passed. */
  private async gather(): Promise<Message[]> {
    const { batchSize } = this.options;
    const batch = await this.receive(batchSize, this.options.waitSeconds ?? 1);
    const until = Date.now() + (this.options.batchingWindowSeconds ?? 0) * 1000;
    while (batch.length > 0 && batch.length < batchSize && Date.now() < until && this.running) {
      const more = await this.receive(batchSize - batch.length, 0);
      batch.push(...more);
      if (more.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return batch;
  }

  async poll(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.gather();
        if (messages.length) await this.deliver(messages);
      } catch (error) {
        if (!this.running) return;
        logger.warn("event source: receive failed, retrying", { error });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

/** `endpoint`: the SQS the queue is on. @default AWS_ENDPOINT_URL_SQS */
export function startEventSource(options: EventSourceOptions, endpoint?: string): EventSource {
  const queueArn = options.queueArn ?? `arn:aws:sqs:local:000000000000:${options.queueUrl.split("/").pop()}`;
  const mapping = new EventSourceMapping(options, queueArn, new SqsPollerClient({ endpoint }));
  const pollers = Array.from({ length: options.maxConcurrency }, () => mapping.poll());
  return {
    async stop() {
      mapping.running = false;
      await Promise.all(pollers);
      await Promise.all(mapping.deleting);
      mapping.sqs.destroy();
    },
    stats: () => ({ invocations: mapping.invocations, peakConcurrency: mapping.peakConcurrency }),
    settings: {
      queueUrl: options.queueUrl,
      queueArn,
      batchSize: options.batchSize,
      maxConcurrency: options.maxConcurrency,
      batchingWindowSeconds: options.batchingWindowSeconds ?? 0,
      reportBatchItemFailures: options.reportBatchItemFailures ?? true,
    },
  };
}
