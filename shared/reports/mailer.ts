import { setTimeout as sleep } from "node:timers/promises";
import { type SESClient, SendEmailCommand } from "@aws-sdk/client-ses";
import pThrottle from "p-throttle";
import { logger } from "../platform/logger.js";

export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one email; resolves once the provider accepted it, with the provider's message id. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

/**
 * Amazon SES (v1 SendEmail: a text and an HTML part, SES builds the MIME message). The client is
 * created once per process by the caller; AWS_ENDPOINT_URL_SES points it at the local emulator.
 * With a configuration set, SES publishes the email's bounce and complaint events and applies
 * the set's suppression list (infra/constructs/reports.ts).
 */
export class SesMailer implements Mailer {
  constructor(
    private readonly ses: SESClient,
    private readonly configurationSet?: string,
  ) {}

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const out = await this.ses.send(
      new SendEmailCommand({
        Source: email.from,
        Destination: { ToAddresses: [email.to] },
        Message: {
          Subject: { Data: email.subject, Charset: "UTF-8" },
          Body: { Text: { Data: email.text, Charset: "UTF-8" }, Html: { Data: email.html, Charset: "UTF-8" } },
        },
        ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
      }),
    );
    if (!out.MessageId) throw new Error("SES accepted the email but returned no MessageId");
    return { messageId: out.MessageId };
  }
}

const THROTTLING_NAMES = new Set(["Throttling", "ThrottlingException", "TooManyRequestsException"]);

/**
 * SES refused an email for the account's maximum sending rate: `Throttling` "Maximum sending rate
 * exceeded" (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html), worth
 * a retry in a moment. The same code with "Daily message quota exceeded" is not: it lasts until
 * the quota's 24-hour window moves on, so it fails the job (the queue retries it later).
 */
export function isSendingRateThrottle(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return typeof name === "string" && THROTTLING_NAMES.has(name) && !/daily message quota/i.test(String(message));
}

export interface PacedMailerOptions {
  /** Emails per second this process may send (its share of the account's maximum sending rate). */
  ratePerSecond: number;
  /** Retries of an email SES throttled. @default 5 */
  retries?: number;
  /** First backoff; it doubles each retry, with full jitter. @default 500 ms */
  baseDelayMs?: number;
}

/** p-throttle's window for a rate: whole emails per second, or one email per so many ms. */
function window(ratePerSecond: number): { limit: number; interval: number } {
  if (!(ratePerSecond > 0)) throw new Error(`The sending rate must be positive, got ${ratePerSecond}`);
  return ratePerSecond >= 1
    ? { limit: Math.floor(ratePerSecond), interval: 1000 }
    : { limit: 1, interval: Math.ceil(1000 / ratePerSecond) };
}

/**
 * A mailer that keeps to a sending rate (p-throttle: at most `limit` sends start per interval,
 * the others wait their turn) and, when SES throttles anyway (another process sends too), waits
 * with exponential backoff and sends again, inside the invocation. A retried send takes its turn
 * of the rate again.
 */
export function pacedMailer(mailer: Mailer, options: PacedMailerOptions): Mailer {
  const throttled = pThrottle({ ...window(options.ratePerSecond), strict: true })((email: OutgoingEmail) =>
    mailer.send(email),
  );
  const retries = options.retries ?? 5;
  const base = options.baseDelayMs ?? 500;
  return {
    async send(email) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await throttled(email);
        } catch (error) {
          if (attempt >= retries || !isSendingRateThrottle(error)) throw error;
          const delay = Math.round(Math.random() * base * 2 ** attempt);
          logger.warn("SES throttled a report email: retrying", { attempt: attempt + 1, delayMs: delay });
          await sleep(delay);
        }
      }
    },
  };
}
