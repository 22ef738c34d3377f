import { SESClient } from "@aws-sdk/client-ses";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { systemClock } from "../shared/platform/clock.js";
import { withLambdaContext } from "../shared/platform/logger.js";
import { loadReportsEnv } from "../shared/reports/config.js";
import { pacedMailer, SesMailer } from "../shared/reports/mailer.js";
import { processReportJobs, type ReportDeps } from "../shared/reports/service.js";

/**
 * The sender's ports, built at the first invocation: one SES client per process
 * (AWS_ENDPOINT_URL_SES points it at the local emulator), paced to this environment's share of
 * the account's sending rate; throttled sends are retried.
 */
const senderRuntime = handlerRuntime(({ database }): ReportDeps => {
  const env = loadReportsEnv();
  return {
    db: database.db,
    mailer: pacedMailer(new SesMailer(new SESClient({}), env.SES_CONFIGURATION_SET), {
      ratePerSecond: env.SES_MAX_SEND_RATE,
    }),
    clock: systemClock,
    sender: env.REPORT_SENDER,
    leaseSeconds: env.REPORT_CLAIM_LEASE_SECONDS,
  };
});

/** SQS consumer of the report queue: sends each team's report once, reports partial batch failures. */
export const handler = withLambdaContext(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const retry = await processReportJobs(await senderRuntime(), event.Records);
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
});
