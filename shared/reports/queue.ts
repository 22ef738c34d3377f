import * as z from "zod";
import { type SqsSender, sendMessageBatches } from "../platform/sqs-sender.js";

const PERIOD_ID = /^\d{4}-W\d{2}$/;

/**
 * How the report queue is consumed, in AWS (infra/constructs/reports.ts) and in the local world
 * built from its template: a few teams per invocation, two invocations at once (the lowest
 * maxConcurrency AWS accepts: reports are not urgent, and SES has a sending rate).
 */
export const REPORT_QUEUE_SETTINGS = { batchSize: 5, maxConcurrency: 2 } as const;

/** One message of the report queue: send this team's report for this period. */
export const reportJob = z.object({
  teamId: z.string().uuid(),
  period: z.string().regex(PERIOD_ID, "expected an ISO week, YYYY-Www"),
});
export type ReportJob = z.infer<typeof reportJob>;

/** Where the planner puts one job per team. */
export interface ReportQueue {
  /** Enqueues every job or throws (the planner is re-run then: the sender's claim makes repeats harmless). */
  send(jobs: readonly ReportJob[]): Promise<void>;
}

/** The report queue in AWS: SendMessageBatch, ten jobs a call. */
export class SqsReportQueue implements ReportQueue {
  constructor(
    private readonly sqs: SqsSender,
    private readonly queueUrl: string,
  ) {}

  send(jobs: readonly ReportJob[]): Promise<void> {
    return sendMessageBatches(
      this.sqs,
      this.queueUrl,
      // A team's jobs form its fair-queue group.
      jobs.map((job) => ({ body: JSON.stringify(job), groupId: job.teamId })),
      "report job",
    );
  }
}
