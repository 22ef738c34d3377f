import * as z from "zod";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { systemClock } from "../shared/platform/clock.js";
import { withLambdaContext } from "../shared/platform/logger.js";
import { loadReportsEnv } from "../shared/reports/config.js";
import { planReports } from "../shared/reports/planner.js";
import { SqsReportQueue } from "../shared/reports/queue.js";

/** The planner's database and report queue (REPORT_QUEUE_URL), read at the first invocation. */
const plannerRuntime = handlerRuntime(({ database, sqs }) => {
  const env = loadReportsEnv();
  if (!env.REPORT_QUEUE_URL) throw new Error("Invalid configuration: REPORT_QUEUE_URL is not set");
  return { db: database.db, queue: new SqsReportQueue(sqs, env.REPORT_QUEUE_URL), clock: systemClock };
});

/** What EventBridge Scheduler sends (`scheduledTime`), or an operator's catch-up run (`period`). */
const plannerEvent = z
  .object({ period: z.string().optional(), scheduledTime: z.string().optional() })
  .nullish()
  .transform((event) => event ?? {});

/** Run by EventBridge Scheduler: one message per team on the report queue. */
export const handler = withLambdaContext(
  async (event: unknown): Promise<{ period: string; teams: number }> =>
    planReports(await plannerRuntime(), plannerEvent.parse(event)),
);
