import { and, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { oneOrNull } from "../db/one-row.js";
import { type ReportRunRow, reportDeliveries, reportRuns } from "../db/schema.js";
import type { Delivery, RunClaim, RunOutcome } from "./model.js";

/** The port of report runs and their deliveries: services take it, tests fake it; ReportRunsRepository is the Postgres adapter. */
export interface ReportRunsStore {
  claim(teamId: string, period: string, now: Date, leaseSeconds: number): Promise<RunClaim | null>;
  status(teamId: string, period: string): Promise<Pick<ReportRunRow, "status" | "recipients"> | null>;
  deliveredUserIds(runId: string): Promise<Set<string>>;
  recordDelivery(runId: string, delivery: Delivery): Promise<void>;
  finish(claim: RunClaim, outcome: RunOutcome): Promise<boolean>;
}

/**
 * The report_runs table: one row per (team, period), claimed before anything is sent.
 *
 * `claim` is one conditional upsert: it creates the run, or takes over a run that failed or whose
 * claim is older than the lease (its sender died); it returns nothing when the run was sent, or
 * is being sent by a live claimant. Two senders racing get one claim between them.
 */
export class ReportRunsRepository implements ReportRunsStore {
  constructor(private readonly db: DbOrTx) {}

  async claim(teamId: string, period: string, now: Date, leaseSeconds: number): Promise<RunClaim | null> {
    const staleBefore = new Date(now.getTime() - leaseSeconds * 1000).toISOString();
    const [row] = await this.db
      .insert(reportRuns)
      .values({ teamId, period, status: "sending", attempts: 1, claimedAt: now })
      .onConflictDoUpdate({
        target: [reportRuns.teamId, reportRuns.period],
        set: {
          status: "sending",
          attempts: sql`${reportRuns.attempts} + 1`,
          claimedAt: now,
          updatedAt: sql`now()`,
        },
        setWhere: sql`${reportRuns.status} = 'failed' or (${reportRuns.status} = 'sending' and ${reportRuns.claimedAt} < ${staleBefore}::timestamptz)`,
      })
      .returning({ id: reportRuns.id, attempt: reportRuns.attempts });
    return row ?? null;
  }

  /** Where the team's run for the period stands: sent (to how many), or not yet. */
  async status(teamId: string, period: string): Promise<Pick<ReportRunRow, "status" | "recipients"> | null> {
    const where = and(eq(reportRuns.teamId, teamId), eq(reportRuns.period, period));
    return oneOrNull(
      this.db.select({ status: reportRuns.status, recipients: reportRuns.recipients }).from(reportRuns).where(where),
    );
  }

  /** The users this run already reached (in an earlier attempt). */
  async deliveredUserIds(runId: string): Promise<Set<string>> {
    const rows = await this.db
      .select({ userId: reportDeliveries.userId })
      .from(reportDeliveries)
      .where(eq(reportDeliveries.runId, runId));
    return new Set(rows.map((r) => r.userId));
  }

  async recordDelivery(runId: string, delivery: Delivery): Promise<void> {
    await this.db
      .insert(reportDeliveries)
      .values({ runId, ...delivery })
      .onConflictDoNothing();
  }

  /**
   * Ends the claim as 'sent' or 'failed', recording how many users the run reached. Only the
   * latest claimant may: returns false when another sender took the run over meanwhile.
   */
  async finish(claim: RunClaim, outcome: RunOutcome): Promise<boolean> {
    const finished = await this.db
      .update(reportRuns)
      .set({
        status: outcome.status,
        error: outcome.error ?? null,
        sentAt: outcome.status === "sent" ? outcome.at : null,
        recipients: sql`(select count(*)::int from ${reportDeliveries} where ${reportDeliveries.runId} = ${claim.id})`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(reportRuns.id, claim.id), eq(reportRuns.attempts, claim.attempt), eq(reportRuns.status, "sending")))
      .returning({ id: reportRuns.id });
    return finished.length > 0;
  }
}
