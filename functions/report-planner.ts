import * as z from "zod";
import { systemClock } from "../shared/platform/clock.js";
import { runtime } from "../shared/platform/runtime.js";
import { lazySqsClient } from "../shared/platform/sqs.js";
import { loadReportsEnv } from "../shared/reports/config.js";
import { planReports } from "../shared/reports/planner.js";
import { SqsReportQueue } from "../shared/reports/queue.js";

const env = loadReportsEnv();
if (!env.REPORT_QUEUE_URL) throw new Error("Invalid configuration: REPORT_QUEUE_URL is not set");
const queue = new SqsReportQueue(lazySqsClient(), env.REPORT_QUEUE_URL);

/** What EventBridge Scheduler sends (`scheduledTime`), or an operator's catch-up run (`period`). */
const plannerEvent = z
  .object({ period: z.string().optional(), scheduledTime: z.string().optional() })
  .nullish()
  .transform((event) => event ?? {});

/** Run by EventBridge Scheduler: one message per team on the report queue. */
export async function handler(event: unknown): Promise<{ period: string; teams: number }> {
  const { database } = await runtime();
  return planReports({ db: database.db, queue, clock: systemClock }, plannerEvent.parse(event));
}
