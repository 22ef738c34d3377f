import { SESClient } from "@aws-sdk/client-ses";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { systemClock } from "../shared/platform/clock.js";
import { runtime } from "../shared/platform/runtime.js";
import { loadReportsEnv } from "../shared/reports/config.js";
import { pacedMailer, SesMailer } from "../shared/reports/mailer.js";
import { processReportJobs } from "../shared/reports/service.js";

const env = loadReportsEnv();
// One client per process; AWS_ENDPOINT_URL_SES points it at the local emulator.
// Paced to this environment's share of the account's sending rate; throttled sends are retried.
const mailer = pacedMailer(new SesMailer(new SESClient({}), env.SES_CONFIGURATION_SET), {
  ratePerSecond: env.SES_MAX_SEND_RATE,
});

/** SQS consumer of the report queue: sends each team's report once, reports partial batch failures. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { database } = await runtime();
  const retry = await processReportJobs(
    {
      db: database.db,
      mailer,
      clock: systemClock,
      sender: env.REPORT_SENDER,
      leaseSeconds: env.REPORT_CLAIM_LEASE_SECONDS,
    },
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
  );
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
}
