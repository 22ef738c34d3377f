import * as z from "zod";
import { parseEnv } from "../platform/config.js";
import { DEFAULT_REPORT_SCHEDULE, DEFAULT_REPORT_TIME_ZONE } from "./schedule.js";

/** How long a sender's claim on a run holds (REPORT_CLAIM_LEASE_SECONDS): more than the sender Lambda's timeout. */
export const DEFAULT_REPORT_CLAIM_LEASE_SECONDS = 300;

/**
 * The environment of the report pipeline, parsed once and checked at cold start like
 * shared/platform/config.ts (kept here, next to the code that reads it).
 */
const reportsEnvSchema = z.object({
  /** The From address of every report (an SES identity in AWS: CDK context `kapa:reportSender`). */
  REPORT_SENDER: z.string().email().default("reports@kapa.local"),
  /** The report queue (SQS), set by CDK on the planner. Locally the planner hands jobs over in-process. */
  REPORT_QUEUE_URL: z.string().optional(),
  /** Local runtime: the schedule, in EventBridge Scheduler syntax (AWS: CDK context `kapa:reportSchedule`). */
  REPORT_SCHEDULE: z.string().default(DEFAULT_REPORT_SCHEDULE),
  /** Local runtime: the schedule's time zone, IANA name (AWS: CDK context `kapa:reportTimeZone`). */
  REPORT_TIME_ZONE: z.string().default(DEFAULT_REPORT_TIME_ZONE),
  /** A run claimed longer ago than this and still 'sending' is taken to be dead and may be taken over. */
  REPORT_CLAIM_LEASE_SECONDS: z.coerce.number().int().min(30).max(86_400).default(DEFAULT_REPORT_CLAIM_LEASE_SECONDS),
  /**
   * Emails per second one sender process may send: its share of the SES account's maximum
   * sending rate (CDK: kapa:sesMaxSendRate divided by the sender's maximum concurrency).
   */
  SES_MAX_SEND_RATE: z.coerce.number().positive().max(10_000).default(50),
  /** The SES configuration set of the reports (bounce and complaint events, suppression); unset locally. */
  SES_CONFIGURATION_SET: z.string().min(1).optional(),
  /** Local runtime: port of the SES emulator on 127.0.0.1; 0 (the default) picks a free one, printed at start. */
  SES_PORT: z.coerce.number().int().min(0).max(65535).default(0),
});

export type ReportsEnv = z.infer<typeof reportsEnvSchema>;

export function loadReportsEnv(source: NodeJS.ProcessEnv = process.env): ReportsEnv {
  return parseEnv(reportsEnvSchema, source);
}
