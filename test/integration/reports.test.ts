import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueDepth } from "../../cli/backfill-watch.js";
import { type LocalEmail, readLocalMailbox } from "../../local/ses.js";
import { createTeam } from "../../shared/admin/tenants.js";
import { reportDeliveries, reportRuns } from "../../shared/db/schema.js";
import { fixedClock } from "../../shared/platform/clock.js";
import type { Mailer } from "../../shared/reports/mailer.js";
import { planReports } from "../../shared/reports/planner.js";
import { type ReportJob, SqsReportQueue } from "../../shared/reports/queue.js";
import { ReportRunsRepository } from "../../shared/reports/repository.js";
import { processReportJobs, type ReportDeps, sendTeamReport } from "../../shared/reports/service.js";
import { useTestDb } from "../support/db.js";
import { seedReportScenario, seedTeam } from "../support/report-data.js";
import { useLocalSes } from "../support/ses.js";
import { drainBodies, eventually, testSqs } from "../support/sqs.js";
import { startTestWorld, type TestWorld } from "../support/world.js";

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();
/** This file's week (other files use others: the test database is shared). */
const PERIOD = "2026-W10";
/** The Monday after it, when the schedule fires. */
const clock = fixedClock("2026-03-09T08:00:00Z");
const SENDER = "reports@kapa.test";

const ses = useLocalSes();

const deps = (overrides: Partial<ReportDeps> = {}): ReportDeps => ({
  db,
  mailer: ses.mailer,
  clock,
  sender: SENDER,
  ...overrides,
});
const message = (teamId: string, period = PERIOD) => ({
  messageId: `${teamId}/${period}`,
  body: JSON.stringify({ teamId, period } satisfies ReportJob),
});

/** The mailbox's emails to these addresses, by address. */
async function inbox(addresses: readonly string[]): Promise<Map<string, LocalEmail[]>> {
  const emails = await ses.mailbox();
  return new Map(addresses.map((a) => [a, emails.filter((e) => e.destination.to.includes(a))]));
}
const counts = async (addresses: readonly string[]) => [...(await inbox(addresses)).values()].map((e) => e.length);

async function run(teamId: string, period = PERIOD) {
  const [row] = await db
    .select()
    .from(reportRuns)
    .where(eq(reportRuns.teamId, teamId))
    .then((rows) => rows.filter((r) => r.period === period));
  return row;
}

/** A mailer that refuses some addresses while `broken` holds. */
function flaky(refuse: (to: string) => boolean) {
  const state = { broken: true };
  const flakyMailer: Mailer = {
    send: async (email) => {
      if (state.broken && refuse(email.to)) throw new Error("SES throttled the request");
      return ses.mailer.send(email);
    },
  };
  return { mailer: flakyMailer, state };
}

describe("usage reports: plan, build, send once", () => {
  it("plans one job per team for the previous week, and sends each user one email with the week's figures", async () => {
    const { acme, globex } = await seedReportScenario(db, PERIOD);
    const planned: ReportJob[] = [];
    const capture = { send: async (jobs: readonly ReportJob[]) => void planned.push(...jobs) };

    // Act
    const plan = await planReports({ db, queue: capture, clock }, { pageSize: 3 });
    const retry = await processReportJobs(deps(), [message(acme.teamId), message(globex.teamId)]);

    // Assess: the plan (keyset pages of 3) covers every team once, for last week
    expect(plan.period).toBe(PERIOD);
    expect(planned).toHaveLength(plan.teams);
    expect(new Set(planned.map((j) => j.teamId)).size).toBe(plan.teams);
    expect(planned).toEqual(
      expect.arrayContaining([
        { teamId: acme.teamId, period: PERIOD },
        { teamId: globex.teamId, period: PERIOD },
      ]),
    );
    expect(retry).toEqual([]);

    const mail = await inbox([...acme.emails, ...globex.emails]);
    for (const [address, emails] of mail) {
      expect(emails, address).toHaveLength(1);
      expect(emails[0]?.from).toBe(SENDER);
      expect(emails[0]?.destination.to).toEqual([address]);
    }
    const acmeEmail = mail.get(acme.emails[0] as string)?.[0] as LocalEmail;
    expect(acmeEmail.subject).toBe("Acme <& Co>: kapa usage report for 2026-W10");
    const acmeText = acmeEmail.body.text ?? "";
    expect(acmeText).toContain("2026-W10: 2026-03-02 to 2026-03-08 (UTC)");
    // Docs bot: 4 threads started this week (1 the week before); 6 questions, one of them a
    // follow-up in last week's thread (1 the week before); the thread of next Monday is not counted.
    const docs = acmeText.slice(acmeText.indexOf("\nDocs bot\n"));
    expect(docs).toContain("Questions asked: 6 (+500% vs 2026-W09: 1)");
    expect(docs).toContain("New threads:     4 (+300% vs 2026-W09: 1)");
    expect(docs).toContain("Top categories:  Troubleshooting (2), Discovery (1)");
    expect(docs).toMatch(/Troubleshooting\s+2\n\s+Discovery\s+1\n\s+Unlabelled\s+1\n/);
    const api = acmeText.slice(acmeText.indexOf("\nAPI bot\n"), acmeText.indexOf("\nDocs bot\n"));
    expect(api).toContain("Questions asked: 0 (no change vs 2026-W09: 0)");
    expect(api).toContain("Top categories:  none");
    expect(acmeEmail.body.html).toContain("kapa usage report for Acme &lt;&amp; Co&gt;");
    expect(acmeEmail.body.html).not.toContain("Acme <&");

    const globexText = mail.get(globex.emails[0] as string)?.[0]?.body.text ?? "";
    expect(globexText).toContain("Questions asked: 3 (+50% vs 2026-W09: 2)");
    expect(globexText).toContain("New threads:     2 (no change vs 2026-W09: 2)");
    expect(globexText).toMatch(/Careers\s+2\n\s+Discovery\s+0\n\s+Troubleshooting\s+0\n\s+Unlabelled\s+0\n/);

    expect(await run(acme.teamId)).toMatchObject({ status: "sent", attempts: 1, recipients: 2, error: null });
    expect(await run(globex.teamId)).toMatchObject({ status: "sent", attempts: 1, recipients: 1 });
  });

  it("sends nothing on a second run for the same period", async () => {
    const { acme, globex } = await seedReportScenario(db, PERIOD);
    const addresses = [...acme.emails, ...globex.emails];
    await processReportJobs(deps(), [message(acme.teamId), message(globex.teamId)]);
    expect(await counts(addresses)).toEqual([1, 1, 1]);

    // Act: the same jobs again (a rerun, a retried batch, a duplicate delivery)
    const retry = await processReportJobs(deps(), [message(acme.teamId), message(globex.teamId)]);
    const again = await sendTeamReport(deps(), { teamId: acme.teamId, period: PERIOD });

    // Assess
    expect(retry).toEqual([]);
    expect(again).toMatchObject({ status: "already-sent", recipients: 2 });
    expect(await counts(addresses)).toEqual([1, 1, 1]);
    expect(await run(acme.teamId)).toMatchObject({ status: "sent", attempts: 1 });
  });
});

describe("usage reports: retries and duplicate deliveries", () => {
  it("retries a failed team on its own, later sending only to the users it missed", async () => {
    const { acme, globex } = await seedReportScenario(db, PERIOD);
    const [reached, missed] = acme.emails as [string, string];
    const addresses = [reached, missed, ...globex.emails];
    const { mailer: failing, state } = flaky((to) => to === missed);

    // Act 1: one of Acme's two emails fails
    const retry = await processReportJobs(deps({ mailer: failing }), [message(acme.teamId), message(globex.teamId)]);

    // Assess 1: Acme's message goes back to the queue; Globex's report went out regardless
    expect(retry).toEqual([message(acme.teamId).messageId]);
    expect(await counts(addresses)).toEqual([1, 0, 1]);
    const failed = await run(acme.teamId);
    expect(failed).toMatchObject({ status: "failed", attempts: 1, recipients: 1 });
    expect(failed?.error).toContain(`${missed}: SES throttled the request`);
    expect(await run(globex.teamId)).toMatchObject({ status: "sent" });

    // Act 2: the queue's retry, once SES is fine again
    state.broken = false;
    expect(await processReportJobs(deps({ mailer: failing }), [message(acme.teamId)])).toEqual([]);

    // Assess 2: the missed user got it, nobody got it twice
    expect(await counts(addresses)).toEqual([1, 1, 1]);
    expect(await run(acme.teamId)).toMatchObject({ status: "sent", attempts: 2, recipients: 2, error: null });
    const deliveries = await db
      .select()
      .from(reportDeliveries)
      .where(eq(reportDeliveries.runId, (await run(acme.teamId))?.id ?? ""));
    expect(deliveries.map((d) => d.email).sort()).toEqual([reached, missed].sort());
    expect(await sendTeamReport(deps(), { teamId: acme.teamId, period: PERIOD })).toMatchObject({
      status: "already-sent",
    });
  });

  it("sends once when the same job is delivered several times at once", async () => {
    const { acme } = await seedReportScenario(db, PERIOD);

    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => sendTeamReport(deps(), { teamId: acme.teamId, period: PERIOD })),
    );

    expect(outcomes.filter((o) => o.status === "sent")).toHaveLength(1);
    expect(outcomes.every((o) => ["sent", "in-progress", "already-sent"].includes(o.status))).toBe(true);
    expect(await counts(acme.emails)).toEqual([1, 1]);
  });
});

describe("usage reports: lease takeover and teams to skip", () => {
  it("takes over a run whose sender died only after the lease, and fences the old claim", async () => {
    const period = "2026-W20"; // not planned by the last test of this file
    const team = await seedTeam(db, { name: "Initech", users: 2, projects: ["Bot"] });
    const runs = new ReportRunsRepository(db);
    const t0 = new Date("2026-05-18T08:00:00Z");
    const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

    const first = await runs.claim(team.teamId, period, t0, 300);
    expect(first).toMatchObject({ attempt: 1 });
    // The first sender reached one user, then died.
    await runs.recordDelivery(first?.id ?? "", {
      userId: team.userIds[0] as string,
      email: team.emails[0] as string,
      messageId: "ses-earlier",
      sentAt: t0,
    });
    expect(await runs.claim(team.teamId, period, later(299), 300)).toBeNull();
    expect(
      await sendTeamReport(deps({ clock: fixedClock(later(120)) }), { teamId: team.teamId, period }),
    ).toMatchObject({ status: "in-progress" });

    // Act: a retry after the lease
    const outcome = await sendTeamReport(deps({ clock: fixedClock(later(301)) }), { teamId: team.teamId, period });

    // Assess: it sends to the user the dead sender had not reached, and the dead claim cannot finish
    expect(outcome).toMatchObject({ status: "sent", recipients: 2, sentNow: 1 });
    expect(await counts(team.emails)).toEqual([0, 1]);
    expect(await run(team.teamId, period)).toMatchObject({ status: "sent", attempts: 2, recipients: 2 });
    expect(await runs.finish(first as { id: string; attempt: number }, { status: "failed", at: later(400) })).toBe(
      false,
    );
    expect(await run(team.teamId, period)).toMatchObject({ status: "sent" });
  });

  it("skips teams without users (and records nothing, so they get next week's) and teams that do not exist", async () => {
    const lonely = await createTeam(db, { name: "No users" });
    const missing = "00000000-0000-4000-8000-000000000000";

    const retry = await processReportJobs(deps(), [message(lonely.id), message(missing)]);

    expect(retry).toEqual([]);
    expect(await sendTeamReport(deps(), { teamId: lonely.id, period: PERIOD })).toMatchObject({
      status: "skipped",
      reason: "no users",
    });
    expect(await sendTeamReport(deps(), { teamId: missing, period: PERIOD })).toMatchObject({
      status: "skipped",
      reason: "no such team",
    });
    expect(await run(lonely.id)).toBeUndefined();
  });
});

describe("usage reports in the local runtime: planner and sender Lambdas, local SQS, local SES", () => {
  let world: TestWorld;
  let reportQueue: { queueUrl: string; dlqUrl: string };

  beforeAll(async () => {
    world = await startTestWorld({
      label: "reports",
      consumers: ["report-sender"],
      deviations: { visibilityTimeoutSeconds: 3 }, // a failed job comes back after 3 seconds
    });
    reportQueue = { queueUrl: world.queueUrl("ReportQueueUrl"), dlqUrl: world.queueUrl("ReportDeadLetterQueueUrl") };
    // Both of the mapping's environments started before the jobs arrive: a cold start (loading the
    // function's modules) longer than the shortened visibility would hand a good job to a second
    // receive while the first still sends it, and the lease would dead-letter it. An empty batch
    // loads the modules whatever it answers.
    await Promise.allSettled([0, 1].map(() => world.invoke("report-sender", { Records: [] })));
  });
  afterAll(() => world.stop());

  it("sends every team's report through the queue, and dead-letters a poison job after 5 receives", {
    timeout: 120_000,
  }, async () => {
    const { acme, globex } = await seedReportScenario(db, PERIOD);
    const addresses = [...acme.emails, ...globex.emails];
    const poison: ReportJob = { teamId: acme.teamId, period: "2026-W99" };

    // Act: the planner Lambda for this file's week (every team in the database), plus a job no retry can fix
    const plan = (await world.invoke("report-planner", { period: PERIOD })) as { period: string };
    await new SqsReportQueue(testSqs, reportQueue.queueUrl).send([poison]);

    // Assess
    expect(plan.period).toBe(PERIOD);
    const emails = await eventually(async () => {
      const all = await readLocalMailbox(world.ses.endpoint);
      const mine = addresses.map((a) => all.filter((e) => e.destination.to.includes(a)));
      return mine.every((m) => m.length > 0) ? mine : undefined;
    }, 90_000);
    expect(emails.map((m) => m.length)).toEqual([1, 1, 1]);
    // The sender the template gives the function.
    const sender = world.world.functions[world.functionId("report-sender")]?.environment.REPORT_SENDER;
    expect(emails[0]?.[0]?.from).toBe(sender);
    // The poison job of this scenario's; the planner also sent jobs for teams the file's other
    // tests left behind (a run held by a live lease may end in the DLQ too).
    const dead: ReportJob[] = [];
    await eventually(async () => {
      dead.push(...(await drainBodies(reportQueue.dlqUrl)).map((b) => JSON.parse(b) as ReportJob));
      return dead.some((j) => j.period === poison.period && j.teamId === poison.teamId) ? true : undefined;
    }, 60_000);
    expect(dead.filter((j) => j.period === PERIOD && [acme.teamId, globex.teamId].includes(j.teamId))).toEqual([]);
    await eventually(async () => {
      const depth = await queueDepth(testSqs, reportQueue.queueUrl);
      return depth.visible + depth.inFlight === 0 ? true : undefined;
    });
    expect(await counts(addresses)).toEqual([1, 1, 1]);
  });
});
