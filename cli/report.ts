import { SESClient } from "@aws-sdk/client-ses";
import { eq } from "drizzle-orm";
import { findRunningLocalSes } from "../local/operator.js";
import type { Db } from "../shared/db/client.js";
import { teams } from "../shared/db/schema.js";
import { type Clock, systemClock } from "../shared/platform/clock.js";
import { loadEnv } from "../shared/platform/config.js";
import { InvalidInputError, NotFoundError } from "../shared/platform/errors.js";
import { loadReportsEnv } from "../shared/reports/config.js";
import { type Mailer, SesMailer } from "../shared/reports/mailer.js";
import { parsePeriod, reportingPeriodAt } from "../shared/reports/period.js";
import { teamIdPages } from "../shared/reports/planner.js";
import { buildReport, reportAudience, type SendOutcome, sendTeamReport } from "../shared/reports/service.js";

export interface ReportCommandArgs {
  /** One team; all teams when unset. */
  team?: string;
  /** `YYYY-Www`; the last complete week when unset. */
  period?: string;
  /** Render and print the report(s): send nothing, record nothing. */
  dryRun?: boolean;
}

/** Ports for tests; by default the SES mailer described at `defaultMailer`, the system clock and REPORT_SENDER. */
export interface ReportCommandDeps {
  mailer?: Mailer;
  clock?: Clock;
  sender?: string;
}

type Output = { json: Record<string, unknown>; text: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Where the CLI's emails go: AWS_ENDPOINT_URL_SES when set (the SDK reads it); else the local SES
 * of a running `npm start` (advertised in DATA_DIR); else Amazon SES with the usual credentials.
 */
async function defaultMailer(): Promise<{ mailer: Mailer; via: string }> {
  if (process.env.AWS_ENDPOINT_URL_SES) {
    return { mailer: new SesMailer(new SESClient({})), via: process.env.AWS_ENDPOINT_URL_SES };
  }
  const local = await findRunningLocalSes(loadEnv().DATA_DIR);
  if (local) {
    const client = new SESClient({
      endpoint: local,
      region: process.env.AWS_REGION ?? "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    return { mailer: new SesMailer(client), via: `the local SES of npm start (${local})` };
  }
  return { mailer: new SesMailer(new SESClient({})), via: "Amazon SES" };
}

/** The teams the command covers, one page at a time. */
async function* teamPages(db: Db, team: string | undefined): AsyncGenerator<string[]> {
  if (team === undefined) {
    yield* teamIdPages(db);
    return;
  }
  if (!UUID.test(team)) throw new InvalidInputError(`--team must be a UUID, got ${team}`);
  const [row] = await db.select({ id: teams.id }).from(teams).where(eq(teams.id, team));
  if (!row) throw new NotFoundError(`No team with id ${team}`);
  yield [team];
}

type TeamResult = SendOutcome | { teamId: string; period: string; status: "failed"; error: string };

function describe(result: TeamResult): string {
  switch (result.status) {
    case "sent":
      return `sent to ${result.sentNow} user(s)${result.sentNow < result.recipients ? ` (${result.recipients} in all)` : ""}`;
    case "already-sent":
      return `already sent (to ${result.recipients} user(s))`;
    case "in-progress":
      return "being sent by another sender: try again in a few minutes";
    case "skipped":
      return `skipped: ${result.reason}`;
    case "failed":
      return `failed: ${result.error}`;
  }
}

/**
 * `npx kapa report send [--team ID] [--period YYYY-Www] [--dry-run]`: sends the usage report of
 * one team or of every team now, through the same code as the report sender Lambda (so a report
 * already sent for the period is not sent again, and a failed one is retried for the users it
 * missed). With --dry-run it prints the rendered reports and sends and records nothing.
 */
export async function reportCommand(db: Db, args: ReportCommandArgs, deps: ReportCommandDeps = {}): Promise<Output> {
  const clock = deps.clock ?? systemClock;
  const period = args.period ? parsePeriod(args.period) : reportingPeriodAt(clock.now());

  if (args.dryRun) {
    const reports: Record<string, unknown>[] = [];
    const texts: string[] = [];
    for await (const ids of teamPages(db, args.team)) {
      for (const teamId of ids) {
        const [audience, report] = await Promise.all([reportAudience(db, teamId), buildReport(db, teamId, period)]);
        if (!audience || !report) continue; // deleted meanwhile
        const to = audience.recipients.map((r) => r.email);
        reports.push({
          team_id: teamId,
          team_name: audience.teamName,
          recipients: to,
          subject: report.email.subject,
          text: report.email.text,
          html: report.email.html,
        });
        texts.push(
          [
            `=== ${report.email.subject}`,
            `To: ${to.length > 0 ? to.join(", ") : "(no users: would be skipped)"}`,
            "",
            report.email.text,
          ].join("\n"),
        );
      }
    }
    return {
      json: { period: period.id, dry_run: true, reports },
      text: texts.length > 0 ? `Dry run for ${period.id}: nothing sent\n\n${texts.join("\n")}` : "(no teams)",
    };
  }

  const resolved = deps.mailer ? { mailer: deps.mailer, via: "the given mailer" } : await defaultMailer();
  const env = loadReportsEnv();
  const reportDeps = {
    db,
    mailer: resolved.mailer,
    clock,
    sender: deps.sender ?? env.REPORT_SENDER,
    leaseSeconds: env.REPORT_CLAIM_LEASE_SECONDS,
  };
  const results: TeamResult[] = [];
  for await (const ids of teamPages(db, args.team)) {
    for (const teamId of ids) {
      try {
        results.push(await sendTeamReport(reportDeps, { teamId, period: period.id }));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        results.push({ teamId, period: period.id, status: "failed", error: message });
      }
    }
  }
  const count = (status: TeamResult["status"]) => results.filter((r) => r.status === status).length;
  const summary = {
    sent: count("sent"),
    already_sent: count("already-sent"),
    skipped: count("skipped"),
    in_progress: count("in-progress"),
    failed: count("failed"),
  };
  return {
    json: {
      period: period.id,
      via: resolved.via,
      ...summary,
      results: results.map(({ teamId, ...rest }) => ({ team_id: teamId, ...rest })),
    },
    text: [
      `Usage reports for ${period.id} via ${resolved.via}:`,
      ...results.map((r) => `  ${r.teamId}  ${"teamName" in r && r.teamName ? `${r.teamName}: ` : ""}${describe(r)}`),
      `${summary.sent} sent, ${summary.already_sent} already sent, ${summary.skipped} skipped, ${summary.in_progress} in progress, ${summary.failed} failed`,
    ].join("\n"),
  };
}
