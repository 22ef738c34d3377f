import { type SESClient, SendEmailCommand } from "@aws-sdk/client-ses";

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
 */
export class SesMailer implements Mailer {
  constructor(private readonly ses: SESClient) {}

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const out = await this.ses.send(
      new SendEmailCommand({
        Source: email.from,
        Destination: { ToAddresses: [email.to] },
        Message: {
          Subject: { Data: email.subject, Charset: "UTF-8" },
          Body: { Text: { Data: email.text, Charset: "UTF-8" }, Html: { Data: email.html, Charset: "UTF-8" } },
        },
      }),
    );
    if (!out.MessageId) throw new Error("SES accepted the email but returned no MessageId");
    return { messageId: out.MessageId };
  }
}
