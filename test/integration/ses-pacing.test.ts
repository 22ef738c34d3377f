import { describe, expect, it } from "vitest";
import { isSendingRateThrottle, type Mailer, type OutgoingEmail, pacedMailer } from "../../shared/reports/mailer.js";
import { useLocalSes } from "../support/ses.js";

// Prepare ------------------------------------------------------------------------------------

const ses = useLocalSes("kapa-reports");

const email = (to: string): OutgoingEmail => ({
  from: "reports@kapa.local",
  to,
  subject: "s",
  text: "t",
  html: "<p>h</p>",
});
/** SES's answer past the account's rate (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html). */
const throttling = (message = "Maximum sending rate exceeded.") =>
  Object.assign(new Error(message), { name: "Throttling" });

/** The local SES, refusing the first `failures` sends with `error`; records when each send started. */
function flaky(failures: number, error: () => Error) {
  const starts: number[] = [];
  let left = failures;
  const mailer: Mailer = {
    async send(message) {
      starts.push(performance.now());
      if (left-- > 0) throw error();
      return ses.mailer.send(message);
    },
  };
  return { mailer, starts };
}

// Act and assess -----------------------------------------------------------------------------

describe("paced report mailer", () => {
  it("retries an email SES throttled for the sending rate, with backoff, until it is accepted", async () => {
    const to = `throttled-${Date.now()}@example.com`;
    const { mailer, starts } = flaky(3, () => throttling());
    const { messageId } = await pacedMailer(mailer, { ratePerSecond: 100, baseDelayMs: 5 }).send(email(to));
    expect(messageId).toBeTruthy();
    expect(starts).toHaveLength(4);
    const mailbox = await ses.mailbox();
    expect(mailbox.filter((m) => m.destination.to.includes(to))).toHaveLength(1);
  });

  it("gives up after its retries, and does not retry the daily quota or other errors", async () => {
    const always = flaky(100, () => throttling());
    await expect(
      pacedMailer(always.mailer, { ratePerSecond: 100, retries: 2, baseDelayMs: 1 }).send(email("a@example.com")),
    ).rejects.toThrow(/Maximum sending rate/);
    expect(always.starts).toHaveLength(3);

    const quota = flaky(1, () => throttling("Daily message quota exceeded."));
    await expect(pacedMailer(quota.mailer, { ratePerSecond: 100 }).send(email("b@example.com"))).rejects.toThrow(
      /Daily message quota/,
    );
    expect(quota.starts).toHaveLength(1);
    expect(isSendingRateThrottle(Object.assign(new Error("x"), { name: "MessageRejected" }))).toBe(false);
  });

  it("starts at most the rate's sends per second, however many are asked at once", async () => {
    const { mailer, starts } = flaky(0, () => throttling());
    const paced = pacedMailer(mailer, { ratePerSecond: 2 });
    await Promise.all(Array.from({ length: 5 }, (_, i) => paced.send(email(`burst-${i}@example.com`))));
    expect(starts).toHaveLength(5);
    // Sends i and i + 2 are at least a window (1 s) apart: never 3 within one second. (A lower
    // bound: a slower machine only spreads them more.)
    for (let i = 0; i + 2 < starts.length; i++) {
      expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(990);
    }
  });
});
