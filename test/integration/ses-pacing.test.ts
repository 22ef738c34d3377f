import { describe, expect, it, vi } from "vitest";
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
    // On a fake clock (p-throttle schedules with Date.now and setTimeout): on the real one a busy
    // machine delays a send past its turn and the measured gaps say nothing about the pacing.
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    try {
      const starts: number[] = [];
      const recording: Mailer = {
        async send() {
          starts.push(Date.now());
          return { messageId: `m-${starts.length}` };
        },
      };
      const paced = pacedMailer(recording, { ratePerSecond: 2 });
      const sent = Promise.all(Array.from({ length: 5 }, (_, i) => paced.send(email(`burst-${i}@example.com`))));
      await vi.advanceTimersByTimeAsync(2_000);
      await sent;
      const elapsed = starts.map((t) => t - (starts[0] as number));
      expect(elapsed).toHaveLength(5);
      // Never 3 within one second, and no send waits longer than its turn.
      for (let i = 0; i + 2 < elapsed.length; i++) {
        expect((elapsed[i + 2] as number) - (elapsed[i] as number)).toBeGreaterThanOrEqual(1_000);
      }
      expect(elapsed.at(-1)).toBeLessThanOrEqual(2_000);
    } finally {
      vi.useRealTimers();
    }
  });
});
