import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";

/**
 * What the classifier is asked: label this thread. `mode` "unlabelled" labels only a thread
 * without a label; "reclassify" may also replace a classifier's label (never a user's).
 */
export const classificationRequest = z.object({
  threadId: z.string().uuid(),
  reason: z.enum(["new-thread", "relabel", "category-deleted", "sweep", "backfill"]),
  mode: z.enum(["unlabelled", "reclassify"]).default("unlabelled"),
  /** The request that caused it (an API request id), for logs from the chat to the label. */
  correlationId: z.string().max(200).optional(),
});
export type ClassificationRequest = z.input<typeof classificationRequest>;
export type ParsedClassificationRequest = z.output<typeof classificationRequest>;

export interface SendOptions {
  /** Hold the messages back this long (SQS DelaySeconds, at most 900). */
  delaySeconds?: number;
}

export interface ClassificationQueue {
  /** Sends every request or throws; partial failures are retried before giving up. */
  send(requests: readonly ClassificationRequest[], options?: SendOptions): Promise<void>;
}

const SQS_BATCH = 10;

/** SendMessageBatch, ten at a time, resending the entries SQS reports as failed (twice at most). */
export class SqsClassificationQueue implements ClassificationQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(requests: readonly ClassificationRequest[], options: SendOptions = {}): Promise<void> {
    const chunks: ClassificationRequest[][] = [];
    for (let i = 0; i < requests.length; i += SQS_BATCH) chunks.push(requests.slice(i, i + SQS_BATCH));
    await Promise.all(chunks.map((chunk) => this.sendChunk(chunk, options.delaySeconds)));
  }

  private async sendChunk(chunk: ClassificationRequest[], delaySeconds: number | undefined): Promise<void> {
    let pending = chunk.map((request, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(request),
      DelaySeconds: delaySeconds,
    }));
    for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) {
      const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
    if (pending.length > 0) throw new Error(`SQS refused ${pending.length} classification request(s)`);
  }
}
