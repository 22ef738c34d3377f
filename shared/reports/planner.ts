import { asc, gt } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { teams } from "../db/schema.js";
import type { Clock } from "../platform/clock.js";
import { logger } from "../platform/logger.js";
import { type Period, parsePeriod, reportingPeriodAt } from "./period.js";
import type { ReportQueue } from "./queue.js";

/** Teams read (and enqueued) per page: memory stays constant however many teams there are. */
export const TEAM_PAGE_SIZE = 500;

/** Every team id, in id order, one keyset page at a time (`where id > last order by id limit n`). */
export async function* teamIdPages(db: DbOrTx, pageSize = TEAM_PAGE_SIZE): AsyncGenerator<string[]> {
  let after: string | undefined;
  for (;;) {
    const rows = await db
      .select({ id: teams.id })
      .from(teams)
      .where(after === undefined ? undefined : gt(teams.id, after))
      .orderBy(asc(teams.id))
      .limit(pageSize);
    if (rows.length === 0) return;
    yield rows.map((r) => r.id);
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]?.id;
  }
}

export interface PlanRequest {
  /** An explicit period (`YYYY-Www`): a catch-up run. */
  period?: string;
  /** When the schedule fired (Scheduler's `<aws.scheduler.scheduled-time>`): a retried or late run still plans the right week. */
  scheduledTime?: string;
  pageSize?: number;
}

/** The period a run reports on: explicit, else the week before the schedule's (or the clock's) time. */
export function plannedPeriod(clock: Clock, request: PlanRequest): Period {
  if (request.period) return parsePeriod(request.period);
  const at = request.scheduledTime ? new Date(request.scheduledTime) : clock.now();
  return reportingPeriodAt(Number.isNaN(at.getTime()) ? clock.now() : at);
}

/**
 * The scheduled fan-out: one job per team on the report queue, page by page. Planning twice is
 * harmless (the sender claims each team's run), so a failed planner run is simply run again.
 */
export async function planReports(
  deps: { db: DbOrTx; queue: ReportQueue; clock: Clock },
  request: PlanRequest = {},
): Promise<{ period: string; teams: number }> {
  const period = plannedPeriod(deps.clock, request);
  let count = 0;
  for await (const ids of teamIdPages(deps.db, request.pageSize)) {
    await deps.queue.send(ids.map((teamId) => ({ teamId, period: period.id })));
    count += ids.length;
  }
  logger.info("report jobs enqueued", { period: period.id, teams: count });
  return { period: period.id, teams: count };
}
