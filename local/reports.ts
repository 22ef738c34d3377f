import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Clock } from "../shared/platform/clock.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { loadReportsEnv, type ReportsEnv } from "../shared/reports/config.js";
import type { PlanRequest } from "../shared/reports/planner.js";
import { type EventSource, startEventSource } from "./event-source.js";
import { consumerSettings, mappingOf } from "./harness.js";
import { type LocalSchedule, startLocalSchedule } from "./scheduler.js";
import { advertiseLocalSes, type LocalSes, startLocalSes } from "./ses.js";
import { createQueueWithDlq, type QueueWithDlq, useLocalAws } from "./sqs.js";

// The report planner's schedule is the local scheduler's (test/unit/report-schedule.test.ts imports it from here).
export { type LocalSchedule, startLocalSchedule } from "./scheduler.js";

type Handler<E, R> = (event: E) => Promise<R>;

export interface ReportPipeline extends QueueWithDlq {
  /** The local SES, or null when AWS_ENDPOINT_URL_SES already named another endpoint. */
  ses: LocalSes | null;
  /** Where the reports go (AWS_ENDPOINT_URL_SES). */
  sesEndpoint: string;
  eventSource: EventSource;
  schedule: LocalSchedule | null;
  /** Runs the planner Lambda now, as the schedule does: one job per team on the report queue. */
  runPlanner(request?: PlanRequest): Promise<{ period: string; teams: number }>;
  /** Lines for the start banner. */
  banner(): string[];
  stop(): Promise<void>;
}

export interface ReportPipelineOptions {
  /** The report environment (REPORT_*, SES_PORT). @default loadReportsEnv() */
  env?: ReportsEnv;
  /** How long a received report job stays invisible: a failed one comes back after this (a test's deviation; AWS: the template's). */
  visibilityTimeoutSeconds: number;
  /** Record the local SES in this data directory, for `npx kapa report send`. */
  dataDir?: string;
  queueName?: string;
  clock?: Clock;
}

/**
 * The report pipeline of the CDK stack, on this machine: the local SES (on SES_PORT, unless
 * AWS_ENDPOINT_URL_SES is set), the report queue and its DLQ on the local SQS emulator, the
 * sender Lambda behind an event source mapping (batch size, concurrency and maxReceiveCount read
 * from the synthesized template: local/harness.ts), and the planner Lambda, run on REPORT_SCHEDULE in REPORT_TIME_ZONE when
 * REPORT_SCHEDULE_ENABLED=true (and by `runPlanner`).
 *
 * The handlers are the Lambda entry points, unchanged: they read REPORT_QUEUE_URL and the
 * AWS_ENDPOINT_URL_* variables that this sets. Call after `useLocalAws({ sqs })`.
 */
export async function startReportPipeline(options: ReportPipelineOptions): Promise<ReportPipeline> {
  const env = options.env ?? loadReportsEnv();
  const external = process.env.AWS_ENDPOINT_URL_SES;
  const ses = external ? null : await startLocalSes(env.SES_PORT);
  const sesEndpoint = external ?? (ses as LocalSes).endpoint;
  process.env.AWS_ENDPOINT_URL_SES = sesEndpoint;
  useLocalAws({});
  const unadvertise = ses && options.dataDir ? advertiseLocalSes(options.dataDir, ses) : () => {};

  const sqs = createSqsClient();
  const settings = await consumerSettings("reports");
  const queues = await createQueueWithDlq(sqs, options.queueName ?? "kapa-reports", {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: settings.maxReceiveCount,
  });
  process.env.REPORT_QUEUE_URL = queues.queueUrl;
  const planner = (await import("../functions/report-planner.js")) as {
    handler: Handler<PlanRequest, { period: string; teams: number }>;
  };
  const sender = (await import("../functions/report-sender.js")) as { handler: Handler<SQSEvent, SQSBatchResponse> };

  const eventSource = startEventSource({
    queueUrl: queues.queueUrl,
    ...mappingOf(settings),
    handler: sender.handler,
  });
  const runPlanner = (request: PlanRequest = {}) => planner.handler(request);
  const schedule = env.REPORT_SCHEDULE_ENABLED
    ? startLocalSchedule({
        name: "report-planner",
        expression: env.REPORT_SCHEDULE,
        timeZone: env.REPORT_TIME_ZONE,
        clock: options.clock,
        run: (scheduledTime) => runPlanner({ scheduledTime: scheduledTime.toISOString() }),
      })
    : null;

  return {
    ...queues,
    ses,
    sesEndpoint,
    eventSource,
    schedule,
    runPlanner,
    banner() {
      const mailbox = ses ? `${ses.mailboxUrl}  (JSON: ${ses.storeUrl})` : `${sesEndpoint} (AWS_ENDPOINT_URL_SES)`;
      const when = schedule
        ? `planner on ${env.REPORT_SCHEDULE} ${env.REPORT_TIME_ZONE}, next ${schedule.next?.toISOString() ?? "never"}`
        : "not scheduled (REPORT_SCHEDULE_ENABLED=true runs the planner on REPORT_SCHEDULE)";
      return [`  email:       SES mailbox ${mailbox}`, `  reports:     ${when}; send now: npx kapa report send`];
    },
    async stop() {
      await schedule?.stop();
      await eventSource.stop();
      sqs.destroy();
      unadvertise();
      await ses?.stop();
    },
  };
}
