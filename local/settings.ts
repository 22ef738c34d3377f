import type { LocalDeviations } from "./world.js";

/**
 * The local settings of `npm start`, sorted by what they mean in AWS.
 *
 * - A setting with an AWS meaning (a concurrency cap, a limit, a schedule) is CDK context: set
 *   as an environment variable here, it is passed to the synthesis, so the template, and the
 *   local world built from it, has it. The template stays the one source of truth.
 * - Delays of the dummies and the log level replace the template's value locally
 *   (local/environment.ts LOCAL_DELAY_VARIABLES); fault injection is local only.
 * - Ports and the data directory are local (shared/platform/config.ts).
 * - Deviations: timings AWS would not allow, for tests that cannot wait minutes. Each is named
 *   in the start banner.
 */
const CONTEXT_FROM_ENV: Readonly<Record<string, string>> = {
  CLASSIFIER_PROVIDER: "kapa:classifier",
  CLASSIFIER_MODEL_ID: "kapa:classifierModel",
  CLASSIFIER_MAX_CONCURRENCY: "kapa:classifierMaxConcurrency",
  CLASSIFIER_BATCH_SIZE: "kapa:classifierBatchSize",
  BACKFILL_MAX_CONCURRENCY: "kapa:backfillMaxConcurrency",
  AUTHORIZER_CACHE_TTL_SECONDS: "kapa:authorizerCacheTtlSeconds",
  API_THROTTLING_RATE_LIMIT: "kapa:throttlingRateLimit",
  API_THROTTLING_BURST_LIMIT: "kapa:throttlingBurstLimit",
  PER_KEY_RATE_LIMIT: "kapa:perKeyRateLimit",
  PER_KEY_BURST_LIMIT: "kapa:perKeyBurstLimit",
  PER_KEY_DAILY_QUOTA: "kapa:perKeyDailyQuota",
  REPORT_SCHEDULE: "kapa:reportSchedule",
  REPORT_TIME_ZONE: "kapa:reportTimeZone",
  REPORT_SENDER: "kapa:reportSender",
  SWEEPER_GRACE_SECONDS: "kapa:sweeperGraceSeconds",
  SWEEPER_LOOKBACK_HOURS: "kapa:sweeperLookbackHours",
};

/** The CDK context the environment asks for (only variables that are set). */
export function contextFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(CONTEXT_FROM_ENV)
      .filter(([name]) => env[name] !== undefined && env[name] !== "")
      .map(([name, key]) => [key, env[name] as string]),
  );
}

const seconds = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Invalid configuration: ${name}: expected whole seconds`);
  return n;
};

export function deviationsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalDeviations {
  return {
    visibilityTimeoutSeconds: seconds(env.LOCAL_VISIBILITY_TIMEOUT_SECONDS, "LOCAL_VISIBILITY_TIMEOUT_SECONDS"),
    rateSeconds: seconds(env.LOCAL_RATE_SECONDS, "LOCAL_RATE_SECONDS"),
  };
}
