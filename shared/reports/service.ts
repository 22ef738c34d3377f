import { asc, eq } from "drizzle-orm";
import pLimit from "p-limit";
import type { Db } from "../db/client.js";
import { teams, users } from "../db/schema.js";
import type { Clock } from "../platform/clock.js";
import { DomainError, named } from "../platform/errors.js";
import { logger } from "../platform/logger.js";
import { consumeRecords, type QueueRecord } from "../platform/sqs-consumer.js";
import { DEFAULT_REPORT_CLAIM_LEASE_SECONDS } from "./config.js";
import type { Mailer } from "./mailer.js";
import { type Period, parsePeriod } from "./period.js";
import { reportJob } from "./queue.js";
import { type RenderedReport, renderReport } from "./render.js";
import { ReportRunsRepository } from "./repository.js";
import { type TeamUsage, teamUsage } from "./usage.js";

/** The ports of the report sender. */
export interface ReportDeps {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  /** The From address (REPORT_SENDER). */
  sender: string;
  /** A 'sending' run older than this is taken over (REPORT_CLAIM_LEASE_SECONDS). @default DEFAULT_REPORT_CLAIM_LEASE_SECONDS */
  leaseSeconds?: number;
  /** Emails of one team in flight at once. @default 4 */
  concurrency?: number;
}

export interface Recipient {
  userId: string;
  email: string;
}

export type SendOutcome = { teamId: string; period: string; teamName?: string } & (
  | { status: "sent"; recipients: number; sentNow: number }
  | { status: "already-sent"; recipients: number }
  /** Another sender holds a live claim: try again later (the queue's retry does). */
  | { status: "in-progress" }
  | { status: "skipped"; reason: "no users" | "no such team" }
);

/** Some recipients could not be sent to: the run is 'failed', and a retry sends to those only. */
export class ReportSendError extends named("ReportSendError", DomainError) {
  constructor(
    readonly teamId: string,
    readonly period: string,
    readonly failures: ReadonlyArray<{ email: string; error: string }>,
    readonly delivered: number,
  ) {
    super(
      `Report ${period} of team ${teamId}: ${failures.length} of ${failures.length + delivered} email(s) failed: ` +
        failures.map((f) => `${f.email}: ${f.error}`).join("; "),
    );
  }
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The team's name and the users who receive its report, or null when the team does not exist. */
export async function reportAudience(
  db: Db,
  teamId: string,
): Promise<{ teamName: string; recipients: Recipient[] } | null> {
  const [team] = await db.select({ name: teams.name }).from(teams).where(eq(teams.id, teamId));
  if (!team) return null;
  const recipients = await db
    .select({ userId: users.id, email: users.email })
    .from(users)
    .where(eq(users.teamId, teamId))
    .orderBy(asc(users.createdAt), asc(users.id));
  return { teamName: team.name, recipients };
}

/** The team's report for the period, rendered: what every recipient gets. */
export async function buildReport(
  db: Db,
  teamId: string,
  period: Period,
): Promise<{ usage: TeamUsage; email: RenderedReport } | null> {
  const usage = await teamUsage(db, teamId, period);
  return usage && { usage, email: renderReport(usage) };
}

/**
 * Sends one team's report for one period, once:
 *
 * 1. no team, or no users: skipped (nothing recorded, so users added later still get it);
 * 2. claim the (team, period) run; no claim: it was sent already, or another sender is on it;
 * 3. build the report, send one email per user not yet reached by an earlier attempt, and record
 *    each delivery as soon as SES accepted it;
 * 4. all delivered: the run is 'sent'. Otherwise it is 'failed' and ReportSendError is thrown:
 *    the queue retries the message, and the retry reclaims the run and sends only to the rest.
 *
 * A user is emailed twice only if the process dies between SES accepting an email and the
 * delivery row being written (at-least-once per user, never a whole report twice).
 */
export async function sendTeamReport(deps: ReportDeps, job: { teamId: string; period: string }): Promise<SendOutcome> {
  const period = parsePeriod(job.period);
  const base = { teamId: job.teamId, period: period.id };
  const audience = await reportAudience(deps.db, job.teamId);
  if (!audience) {
    logger.warn("report skipped: no such team", base);
    return { ...base, status: "skipped", reason: "no such team" };
  }
  const named = { ...base, teamName: audience.teamName };
  if (audience.recipients.length === 0) {
    logger.info("report skipped: the team has no users", named);
    return { ...named, status: "skipped", reason: "no users" };
  }

  const runs = new ReportRunsRepository(deps.db);
  const claim = await runs.claim(
    job.teamId,
    period.id,
    deps.clock.now(),
    deps.leaseSeconds ?? DEFAULT_REPORT_CLAIM_LEASE_SECONDS,
  );
  if (!claim) {
    const run = await runs.status(job.teamId, period.id);
    if (run?.status === "sent") return { ...named, status: "already-sent", recipients: run.recipients };
    return { ...named, status: "in-progress" };
  }

  let failures: Array<{ email: string; error: string }>;
  let sentNow: number;
  try {
    const report = await buildReport(deps.db, job.teamId, period);
    if (!report) throw new Error("the team was deleted while its report was being sent");
    const already = await runs.deliveredUserIds(claim.id);
    const pending = audience.recipients.filter((r) => !already.has(r.userId));
    const limit = pLimit(deps.concurrency ?? 4);
    const results = await Promise.allSettled(
      pending.map((recipient) =>
        limit(async () => {
          const { messageId } = await deps.mailer.send({ from: deps.sender, to: recipient.email, ...report.email });
          await runs.recordDelivery(claim.id, { ...recipient, messageId, sentAt: deps.clock.now() });
        }),
      ),
    );
    failures = pending.flatMap((r, i) => {
      const result = results[i];
      return result?.status === "rejected" ? [{ email: r.email, error: message(result.reason) }] : [];
    });
    sentNow = pending.length - failures.length;
  } catch (error) {
    await runs.finish(claim, { status: "failed", error: message(error), at: deps.clock.now() });
    throw error;
  }

  const delivered = audience.recipients.length - failures.length;
  if (failures.length > 0) {
    const error = new ReportSendError(job.teamId, period.id, failures, delivered);
    await runs.finish(claim, { status: "failed", error: error.message, at: deps.clock.now() });
    throw error;
  }
  if (!(await runs.finish(claim, { status: "sent", at: deps.clock.now() }))) {
    logger.warn("report run was taken over by another sender before it finished", { ...base, attempt: claim.attempt });
  }
  logger.info("report sent", { ...base, recipients: delivered, sentNow, attempt: claim.attempt });
  return { ...named, status: "sent", recipients: delivered, sentNow };
}

/** Another sender holds a live claim on the run: the message goes back to the queue, to be tried later. */
export class ReportRunHeldError extends named("ReportRunHeldError", DomainError) {}

/** One message of the report queue: one team's job. Throws when the message is to be retried. */
async function sendReportJob(deps: ReportDeps, { messageId, body }: QueueMessage): Promise<void> {
  let outcome: SendOutcome;
  try {
    outcome = await sendTeamReport(deps, reportJob.parse(JSON.parse(body)));
  } catch (error) {
    logger.error("report job failed", { messageId, error });
    throw error;
  }
  if (outcome.status === "in-progress") {
    logger.info("report run held by another sender: retry later", { ...outcome, messageId });
    throw new ReportRunHeldError(`Report ${outcome.period} of team ${outcome.teamId} is being sent by another sender`);
  }
}

export type QueueMessage = QueueRecord;

/**
 * The report queue's consumer, one message after the other (shared/platform/sqs-consumer.ts): returns
 * the ids of the messages to retry (SQS partial batch failure): those that failed, could not be
 * parsed, or whose run another sender still holds. The others are done, whatever their outcome.
 * A batch that failed whole is answered the same way, not thrown.
 */
export async function processReportJobs(deps: ReportDeps, messages: readonly QueueMessage[]): Promise<string[]> {
  const { batchItemFailures } = await consumeRecords(messages, (record) => sendReportJob(deps, record), {
    inParallel: false,
  });
  return batchItemFailures.map((failure) => failure.itemIdentifier);
}
