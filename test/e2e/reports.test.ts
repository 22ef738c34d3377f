import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportCommand } from "../../cli/report.js";
import { type LocalSes, readLocalMailbox, startLocalSes } from "../../local/ses.js";
import { reportRuns } from "../../shared/db/schema.js";
import { fixedClock } from "../../shared/platform/clock.js";
import { InvalidInputError, NotFoundError } from "../../shared/platform/errors.js";
import { useTestDb } from "../support/db.js";
import { seedReportScenario } from "../support/report-data.js";

/**
 * `npx kapa report send` end to end, minus the process: the command's function against the test
 * database and a real local SES that the AWS SDK finds through AWS_ENDPOINT_URL_SES, as the CLI
 * and the Lambda do.
 */
const db = useTestDb();
const PERIOD = "2025-W30"; // this file's week: the test database is shared
let ses: LocalSes;
const saved = { ...process.env };

beforeAll(async () => {
  ses = await startLocalSes(0);
  process.env.AWS_ENDPOINT_URL_SES = ses.endpoint;
  process.env.AWS_REGION = "us-east-1";
  process.env.AWS_ACCESS_KEY_ID = "e2e";
  process.env.AWS_SECRET_ACCESS_KEY = "e2e";
  process.env.REPORT_SENDER = "usage@kapa.test";
});
afterAll(async () => {
  process.env = saved;
  await ses.stop();
});

const countFor = async (addresses: string[]) => {
  const emails = await readLocalMailbox(ses.endpoint);
  return addresses.map((a) => emails.filter((e) => e.destination.to.includes(a)).length);
};

interface Result {
  team_id: string;
  status: string;
  recipients?: number;
}

describe("kapa report send", () => {
  it("previews with --dry-run, sends each team's report once, and reports already-sent on a rerun", async () => {
    const { acme, globex } = await seedReportScenario(db, PERIOD);
    const addresses = [...acme.emails, ...globex.emails];

    // Act 1: --dry-run for one team
    const preview = await reportCommand(db, { team: acme.teamId, period: PERIOD, dryRun: true });

    // Assess 1: the rendered report, nothing sent, nothing recorded
    expect(preview.json).toMatchObject({ period: PERIOD, dry_run: true });
    const [report] = preview.json.reports as Array<Record<string, unknown>>;
    expect(report).toMatchObject({
      team_id: acme.teamId,
      recipients: acme.emails,
      subject: "Acme <& Co>: kapa usage report for 2025-W30",
    });
    expect(report?.html).toContain("Acme &lt;&amp; Co&gt;");
    expect(preview.text).toContain("Dry run for 2025-W30: nothing sent");
    expect(preview.text).toContain(`To: ${acme.emails.join(", ")}`);
    expect(preview.text).toContain("Questions asked: 6 (+500% vs 2025-W29: 1)");
    expect(await countFor(addresses)).toEqual([0, 0, 0]);
    expect(await db.select().from(reportRuns).where(eq(reportRuns.teamId, acme.teamId))).toEqual([]);

    // Act 2: send to every team
    const sent = await reportCommand(db, { period: PERIOD });

    // Assess 2
    const results = sent.json.results as Result[];
    expect(sent.json.via).toBe(ses.endpoint);
    expect(sent.json.failed).toBe(0);
    expect(results.find((r) => r.team_id === acme.teamId)).toMatchObject({ status: "sent", recipients: 2 });
    expect(results.find((r) => r.team_id === globex.teamId)).toMatchObject({ status: "sent", recipients: 1 });
    expect(sent.text).toContain(`${acme.teamId}  Acme <& Co>: sent to 2 user(s)`);
    expect(await countFor(addresses)).toEqual([1, 1, 1]);
    const emails = await readLocalMailbox(ses.endpoint);
    const globexEmail = emails.find((e) => e.destination.to.includes(globex.emails[0] as string));
    expect(globexEmail).toMatchObject({ from: "usage@kapa.test", subject: "Globex: kapa usage report for 2025-W30" });
    expect(globexEmail?.body.text).toContain("Questions asked: 3 (+50% vs 2025-W29: 2)");

    // Act 3: run it again, for one team and for all
    const one = await reportCommand(db, { team: globex.teamId, period: PERIOD });
    const all = await reportCommand(db, { period: PERIOD });

    // Assess 3
    expect(one.json.results).toEqual([expect.objectContaining({ team_id: globex.teamId, status: "already-sent" })]);
    expect(one.text).toContain("Globex: already sent (to 1 user(s))");
    expect((all.json.results as Result[]).filter((r) => r.status === "sent")).toEqual([]);
    expect(await countFor(addresses)).toEqual([1, 1, 1]);
  });

  it("reports on last week by default", async () => {
    const { globex } = await seedReportScenario(db, "2025-W31");
    const out = await reportCommand(
      db,
      { team: globex.teamId, dryRun: true },
      { clock: fixedClock("2025-08-04T08:00:00Z") },
    );
    expect(out.json.period).toBe("2025-W31");
  });

  it("rejects an unknown team and a malformed period", async () => {
    await expect(reportCommand(db, { team: "00000000-0000-4000-8000-000000000000" })).rejects.toThrow(NotFoundError);
    await expect(reportCommand(db, { team: "nope" })).rejects.toThrow(InvalidInputError);
    await expect(reportCommand(db, { period: "2025-31" })).rejects.toThrow(InvalidInputError);
  });
});
