import { SESClient } from "@aws-sdk/client-ses";
import { afterAll, beforeAll } from "vitest";
import { type LocalEmail, type LocalSes, readLocalMailbox, startLocalSes } from "../../local/ses.js";
import { type Mailer, SesMailer } from "../../shared/reports/mailer.js";

export interface TestSes {
  /** The real SES mailer, through the AWS SDK, to the local SES. */
  readonly mailer: Mailer;
  /** What the local SES has accepted. */
  mailbox(): Promise<LocalEmail[]>;
}

/** A local SES on a port of its own for the test file (started before its tests, stopped after). */
export function useLocalSes(configurationSet?: string): TestSes {
  let ses: LocalSes | undefined;
  let mailer: Mailer | undefined;
  beforeAll(async () => {
    ses = await startLocalSes(0);
    const client = new SESClient({
      endpoint: ses.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    mailer = new SesMailer(client, configurationSet);
  });
  afterAll(() => ses?.stop());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the local SES starts in beforeAll");
    return value;
  };
  return {
    get mailer() {
      return started(mailer);
    },
    mailbox: () => readLocalMailbox(started(ses).endpoint),
  };
}
