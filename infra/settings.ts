import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { DEFAULT_EXPORT_URL_TTL_SECONDS } from "../shared/exports/config.js";
import {
  checkTimeZone,
  DEFAULT_REPORT_SCHEDULE,
  DEFAULT_REPORT_TIME_ZONE,
  parseScheduleExpression,
} from "../shared/reports/schedule.js";

/**
 * The deploy-time knobs of the stack, read from CDK context (`cdk.json` holds the defaults;
 * override one with `npx cdk deploy -c kapa:stageName=staging`). Parsed and checked once at
 * synth so that a typo fails fast with a clear message instead of producing an odd template.
 */
export interface StackSettings {
  /**
   * `default`: cheap (one writer, no deletion protection). `prod`: deletion protection and a reader
   * to fail over to (PROFILE_DEFAULTS); an explicit kapa:dbDeletionProtection or kapa:dbReaderInstance wins.
   */
  profile: "default" | "prod";
  /** API Gateway stage name (the first path segment of the API URL). */
  stageName: string;
  /** Stage-wide steady-state requests per second. */
  throttlingRateLimit: number;
  /** Stage-wide burst bucket size. */
  throttlingBurstLimit: number;
  /** How long API Gateway caches an authorizer decision per X-API-KEY. */
  authorizerCacheTtlSeconds: number;
  /** Aurora Serverless v2 capacity range, in ACUs (0.5 steps). */
  dbMinCapacity: number;
  dbMaxCapacity: number;
  /** Stop `cdk destroy` (and CloudFormation) from deleting the database cluster. */
  dbDeletionProtection: boolean;
  /** A second Aurora Serverless v2 instance in the other AZ, promoted if the writer fails. */
  dbReaderInstance: boolean;
  /** Retention of every log group the stack creates. */
  logRetention: RetentionDays;
  /** LOG_LEVEL of every function. */
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** Latency of the dummy LLM (LLM_DELAY_MS). */
  llmDelayMs: number;
  /** Connections per Lambda execution environment (DB_POOL_MAX): RDS Proxy does the pooling. */
  dbPoolMax: number;
  /** X-Ray active tracing on every function and the API stage. */
  tracing: boolean;
  /** Latency of the dummy classifier (CLASSIFIER_DELAY_MS): about 2 s per question, like a real LLM call. */
  classifierDelayMs: number;
  /** Messages per classifier invocation (live queue), classified in parallel. */
  classifierBatchSize: number;
  /** How long the live queue's event source gathers messages before invoking the classifier. */
  classifierBatchingWindowSeconds: number;
  /** The live queue's event source mapping maxConcurrency: the classifier's concurrency cap (AWS minimum 2). */
  classifierMaxConcurrency: number;
  /** The classifier's reserved concurrency: at least the sum of its mappings' caps (live + backfill). */
  classifierReservedConcurrency: number;
  /** How often the sweeper re-enqueues threads left unclassified. */
  sweeperIntervalMinutes: number;
  /** The sweeper leaves threads younger than this to the live path (SWEEPER_GRACE_SECONDS). */
  sweeperGraceSeconds: number;
  /** At most this many threads re-enqueued per sweeper run (SWEEPER_MAX_THREADS). */
  sweeperMaxThreads: number;
  /** How far back the sweeper looks (SWEEPER_LOOKBACK_HOURS): older unlabelled threads are the backfill's. */
  sweeperLookbackHours: number;
  /** Alarm when the live queue's oldest message is older than this. */
  queueAgeAlarmSeconds: number;
  /** The backfill queue's event source maxConcurrency: lower than the live queue's, so live threads keep their pace. */
  backfillMaxConcurrency: number;
  /** Thread ids per Plan page of the backfill state machine (a multiple of backfillRangeSize). */
  backfillPageSize: number;
  /** Thread ids per range: what one EnqueueRange Lambda sends to the backfill queue. */
  backfillRangeSize: number;
  /** The backfill Map state's MaxConcurrency: EnqueueRange Lambdas at once. */
  backfillMapConcurrency: number;
  /** When the usage reports go out: an EventBridge Scheduler expression, `cron(...)` or `rate(...)`. */
  reportSchedule: string;
  /** The IANA time zone of `reportSchedule`'s cron fields. */
  reportTimeZone: string;
  /** The From address of the usage reports: an SES email identity the stack creates (verify it once). */
  reportSender: string;
  /**
   * Emails per second the reports may send: at most the SES account's maximum sending rate
   * (1 in the sandbox, 14 at the start of production access); shared by the sender's environments.
   */
  sesMaxSendRate: number;
  /** Steady-state requests per second of one API key (API Gateway usage plan); 0 turns per-key limits off. */
  perKeyRateLimit: number;
  /** Burst bucket of one API key (usage plan). */
  perKeyBurstLimit: number;
  /** Requests per key per UTC day (usage plan quota); 0: no quota. */
  perKeyDailyQuota: number;
  /**
   * The API's methods require a usage plan key (from the authorizer), which is what enforces the
   * per-key limits. Off only while rolling out: deploy, register the existing keys, turn it on.
   */
  requireUsagePlanKey: boolean;
  /** Where alarm notifications are emailed (an SNS email subscription to confirm once); "": no subscription. */
  alarmEmail: string;
  /** Days between rotations of the database credentials (Secrets Manager); 0: no rotation. */
  dbSecretRotationDays: number;
  /** Lifetime of an export's presigned download link (EXPORT_URL_TTL_SECONDS). */
  exportUrlTtlSeconds: number;
}

const PREFIX = "kapa:";

export const DEFAULT_SETTINGS: StackSettings = {
  profile: "default",
  stageName: "prod",
  throttlingRateLimit: 100,
  throttlingBurstLimit: 200,
  authorizerCacheTtlSeconds: 60,
  dbMinCapacity: 0.5,
  dbMaxCapacity: 4,
  dbDeletionProtection: false,
  dbReaderInstance: false,
  logRetention: RetentionDays.ONE_MONTH,
  logLevel: "info",
  llmDelayMs: 1000,
  dbPoolMax: 2,
  tracing: false,
  classifierDelayMs: 2000,
  classifierBatchSize: 10,
  classifierBatchingWindowSeconds: 1,
  classifierMaxConcurrency: 5,
  classifierReservedConcurrency: 7,
  sweeperIntervalMinutes: 5,
  sweeperGraceSeconds: 300,
  sweeperMaxThreads: 10_000,
  sweeperLookbackHours: 24,
  queueAgeAlarmSeconds: 900,
  backfillMaxConcurrency: 2,
  backfillPageSize: 1_000_000,
  backfillRangeSize: 100_000,
  backfillMapConcurrency: 10,
  reportSchedule: DEFAULT_REPORT_SCHEDULE,
  reportTimeZone: DEFAULT_REPORT_TIME_ZONE,
  reportSender: "reports@example.com",
  sesMaxSendRate: 1,
  perKeyRateLimit: 20,
  perKeyBurstLimit: 40,
  perKeyDailyQuota: 0,
  requireUsagePlanKey: true,
  alarmEmail: "",
  dbSecretRotationDays: 30,
  exportUrlTtlSeconds: DEFAULT_EXPORT_URL_TTL_SECONDS,
};

const LOG_LEVELS: readonly StackSettings["logLevel"][] = ["debug", "info", "warn", "error", "silent"];

function fail(key: string, expected: string, value: unknown): never {
  throw new Error(`Invalid CDK context ${PREFIX}${key}: expected ${expected}, got ${JSON.stringify(value)}`);
}

/** Context values from `-c key=value` arrive as strings, those from cdk.json as JSON values. */
function readNumber(
  node: Node,
  key: string,
  fallback: number,
  range: { min: number; max: number; step: number },
): number {
  const raw: unknown = node.tryGetContext(PREFIX + key);
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  const { min, max, step } = range;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max || value % step !== 0) {
    fail(key, `a multiple of ${step} in [${min}, ${max}]`, raw);
  }
  return value;
}

const int = (min: number, max: number) => ({ min, max, step: 1 });
/** Aurora Serverless v2 capacity is set in half ACUs. */
const acu = (min: number, max: number) => ({ min, max, step: 0.5 });

function readBoolean(node: Node, key: string, fallback: boolean): boolean {
  const raw: unknown = node.tryGetContext(PREFIX + key);
  if (raw === undefined) return fallback;
  if (raw === true || raw === "true") return true;
  if (raw === false || raw === "false") return false;
  return fail(key, "true or false", raw);
}

function readString(node: Node, key: string, fallback: string, pattern: RegExp): string {
  const raw: unknown = node.tryGetContext(PREFIX + key);
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || !pattern.test(raw)) fail(key, `a string matching ${pattern}`, raw);
  return raw;
}

/**
 * The backfill state machine's page must split into whole ranges, and at most 40 of them: the
 * page's ranges travel in the state (about 90 bytes each, far below 256 KB) and each costs 7
 * history events (docs/backfill.md has the arithmetic against the 25,000-event limit).
 */
export const MAX_BACKFILL_RANGES_PER_PAGE = 40;

function checkBackfillSettings(settings: StackSettings): void {
  const { backfillPageSize: page, backfillRangeSize: range } = settings;
  if (page % range !== 0 || page / range > MAX_BACKFILL_RANGES_PER_PAGE) {
    fail(
      "backfillPageSize",
      `a multiple of kapa:backfillRangeSize (${range}), at most ${MAX_BACKFILL_RANGES_PER_PAGE} times it`,
      page,
    );
  }
}

/** A key's burst bucket holds at least a second of its rate (above the stage's limits, the stage's apply). */
function checkPerKeyLimits(settings: StackSettings): void {
  const { perKeyRateLimit: rate, perKeyBurstLimit: burst } = settings;
  if (rate > 0 && burst < rate) fail("perKeyBurstLimit", `at least kapa:perKeyRateLimit (${rate})`, burst);
}

/** What a profile changes in the defaults (the database is removed with a final snapshot in both). */
export const PROFILE_DEFAULTS: Record<
  StackSettings["profile"],
  Pick<StackSettings, "dbDeletionProtection" | "dbReaderInstance">
> = {
  default: { dbDeletionProtection: false, dbReaderInstance: false },
  prod: { dbDeletionProtection: true, dbReaderInstance: true },
};

export function readSettings(node: Node): StackSettings {
  const profile =
    readString(node, "profile", DEFAULT_SETTINGS.profile, /^(default|prod)$/) === "prod" ? "prod" : "default";
  const profiled = PROFILE_DEFAULTS[profile];
  const retentionDays = readNumber(node, "logRetentionDays", DEFAULT_SETTINGS.logRetention, int(1, 3653));
  const validRetention = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === "number");
  if (!validRetention.includes(retentionDays)) {
    fail("logRetentionDays", `one of ${validRetention.join(", ")}`, retentionDays);
  }
  const logLevel = readString(node, "logLevel", DEFAULT_SETTINGS.logLevel, /^(debug|info|warn|error|silent)$/);
  const settings: StackSettings = {
    stageName: readString(node, "stageName", DEFAULT_SETTINGS.stageName, /^[A-Za-z0-9_]{1,128}$/),
    throttlingRateLimit: readNumber(node, "throttlingRateLimit", DEFAULT_SETTINGS.throttlingRateLimit, int(1, 100_000)),
    throttlingBurstLimit: readNumber(
      node,
      "throttlingBurstLimit",
      DEFAULT_SETTINGS.throttlingBurstLimit,
      int(1, 100_000),
    ),
    authorizerCacheTtlSeconds: readNumber(
      node,
      "authorizerCacheTtlSeconds",
      DEFAULT_SETTINGS.authorizerCacheTtlSeconds,
      int(0, 3600),
    ),
    dbMinCapacity: readNumber(node, "dbMinCapacity", DEFAULT_SETTINGS.dbMinCapacity, acu(0, 256)),
    dbMaxCapacity: readNumber(node, "dbMaxCapacity", DEFAULT_SETTINGS.dbMaxCapacity, acu(1, 256)),
    profile,
    dbDeletionProtection: readBoolean(node, "dbDeletionProtection", profiled.dbDeletionProtection),
    dbReaderInstance: readBoolean(node, "dbReaderInstance", profiled.dbReaderInstance),
    logRetention: retentionDays,
    logLevel: LOG_LEVELS.find((l) => l === logLevel) ?? DEFAULT_SETTINGS.logLevel,
    llmDelayMs: readNumber(node, "llmDelayMs", DEFAULT_SETTINGS.llmDelayMs, int(0, 600_000)),
    dbPoolMax: readNumber(node, "dbPoolMax", DEFAULT_SETTINGS.dbPoolMax, int(1, 10)),
    tracing: readBoolean(node, "tracing", DEFAULT_SETTINGS.tracing),
    // The classifier's timeout is 60 s (constructs/classification.ts); one question must fit well inside it.
    classifierDelayMs: readNumber(node, "classifierDelayMs", DEFAULT_SETTINGS.classifierDelayMs, int(0, 30_000)),
    // Without a batching window SQS event sources take at most 10 messages per batch.
    classifierBatchSize: readNumber(node, "classifierBatchSize", DEFAULT_SETTINGS.classifierBatchSize, int(1, 10)),
    classifierBatchingWindowSeconds: readNumber(
      node,
      "classifierBatchingWindowSeconds",
      DEFAULT_SETTINGS.classifierBatchingWindowSeconds,
      int(0, 300),
    ),
    // AWS accepts 2..1000 for an SQS event source mapping's maximum concurrency.
    classifierMaxConcurrency: readNumber(
      node,
      "classifierMaxConcurrency",
      DEFAULT_SETTINGS.classifierMaxConcurrency,
      int(2, 1000),
    ),
    classifierReservedConcurrency: readNumber(
      node,
      "classifierReservedConcurrency",
      DEFAULT_SETTINGS.classifierReservedConcurrency,
      int(2, 10_000),
    ),
    sweeperIntervalMinutes: readNumber(
      node,
      "sweeperIntervalMinutes",
      DEFAULT_SETTINGS.sweeperIntervalMinutes,
      int(1, 1440),
    ),
    sweeperGraceSeconds: readNumber(node, "sweeperGraceSeconds", DEFAULT_SETTINGS.sweeperGraceSeconds, int(0, 86_400)),
    sweeperMaxThreads: readNumber(node, "sweeperMaxThreads", DEFAULT_SETTINGS.sweeperMaxThreads, int(1, 1_000_000)),
    sweeperLookbackHours: readNumber(
      node,
      "sweeperLookbackHours",
      DEFAULT_SETTINGS.sweeperLookbackHours,
      int(1, 24 * 365),
    ),
    // SQS keeps a message at most 14 days.
    queueAgeAlarmSeconds: readNumber(
      node,
      "queueAgeAlarmSeconds",
      DEFAULT_SETTINGS.queueAgeAlarmSeconds,
      int(60, 1_209_600),
    ),
    // AWS accepts 2..1000, as for the live queue's mapping.
    backfillMaxConcurrency: readNumber(
      node,
      "backfillMaxConcurrency",
      DEFAULT_SETTINGS.backfillMaxConcurrency,
      int(2, 1000),
    ),
    backfillPageSize: readNumber(node, "backfillPageSize", DEFAULT_SETTINGS.backfillPageSize, int(1, 10_000_000)),
    backfillRangeSize: readNumber(node, "backfillRangeSize", DEFAULT_SETTINGS.backfillRangeSize, int(1, 1_000_000)),
    // An inline Map runs at most 40 iterations at once.
    backfillMapConcurrency: readNumber(
      node,
      "backfillMapConcurrency",
      DEFAULT_SETTINGS.backfillMapConcurrency,
      int(1, 40),
    ),
    reportSchedule: readString(node, "reportSchedule", DEFAULT_SETTINGS.reportSchedule, /^(cron|rate)\(.+\)$/),
    reportTimeZone: readString(node, "reportTimeZone", DEFAULT_SETTINGS.reportTimeZone, /^[A-Za-z0-9_+/-]+$/),
    reportSender: readString(node, "reportSender", DEFAULT_SETTINGS.reportSender, /^[^\s@]+@[^\s@]+\.[^\s@]+$/),
    sesMaxSendRate: readNumber(node, "sesMaxSendRate", DEFAULT_SETTINGS.sesMaxSendRate, int(1, 10_000)),
    perKeyRateLimit: readNumber(node, "perKeyRateLimit", DEFAULT_SETTINGS.perKeyRateLimit, int(0, 100_000)),
    perKeyBurstLimit: readNumber(node, "perKeyBurstLimit", DEFAULT_SETTINGS.perKeyBurstLimit, int(0, 100_000)),
    perKeyDailyQuota: readNumber(node, "perKeyDailyQuota", DEFAULT_SETTINGS.perKeyDailyQuota, int(0, 1_000_000_000)),
    requireUsagePlanKey: readBoolean(node, "requireUsagePlanKey", DEFAULT_SETTINGS.requireUsagePlanKey),
    alarmEmail: readString(node, "alarmEmail", DEFAULT_SETTINGS.alarmEmail, /^$|^[^\s@]+@[^\s@]+\.[^\s@]+$/),
    // Secrets Manager rotates every 1..1000 days.
    dbSecretRotationDays: readNumber(node, "dbSecretRotationDays", DEFAULT_SETTINGS.dbSecretRotationDays, int(0, 1000)),
    // A presigned link works at most 7 days (SigV4), and no longer than the signing role's session.
    exportUrlTtlSeconds: readNumber(
      node,
      "exportUrlTtlSeconds",
      DEFAULT_SETTINGS.exportUrlTtlSeconds,
      int(60, 7 * 86_400),
    ),
  };
  checkBackfillSettings(settings);
  checkPerKeyLimits(settings);
  if (settings.dbMaxCapacity < settings.dbMinCapacity) {
    fail("dbMaxCapacity", `at least kapa:dbMinCapacity (${settings.dbMinCapacity})`, settings.dbMaxCapacity);
  }
  if (settings.throttlingBurstLimit < settings.throttlingRateLimit) {
    fail(
      "throttlingBurstLimit",
      `at least kapa:throttlingRateLimit (${settings.throttlingRateLimit})`,
      settings.throttlingBurstLimit,
    );
  }
  try {
    parseScheduleExpression(settings.reportSchedule);
  } catch (error) {
    fail(
      "reportSchedule",
      `an EventBridge Scheduler expression (${(error as Error).message})`,
      settings.reportSchedule,
    );
  }
  try {
    checkTimeZone(settings.reportTimeZone);
  } catch {
    fail("reportTimeZone", "an IANA time zone name such as Europe/Berlin", settings.reportTimeZone);
  }
  return settings;
}

/** Addresses no one can own: SES can never verify a sender there. */
const PLACEHOLDER_SENDER = /@(example\.(com|net|org)|[^@]+\.(example|invalid|test|localhost|local))$/i;

/**
 * What a deployable synth (`cdk synth`/`cdk deploy`, infra/app.ts) must set explicitly: the
 * stack's defaults serve the local runtime and the tests, but SES can never verify the default
 * report sender, so a stack deployed with it would send nothing.
 */
export function checkDeployable(node: Node): void {
  const sender: unknown = node.tryGetContext(`${PREFIX}reportSender`);
  if (typeof sender !== "string" || sender.trim() === "" || PLACEHOLDER_SENDER.test(sender)) {
    throw new Error(
      `No report sender is configured for this deployment (CDK context ${PREFIX}reportSender is ${JSON.stringify(sender ?? null)}). ` +
        `Set an address of a domain you own, which SES will verify: npx cdk deploy -c ${PREFIX}reportSender=reports@your-domain.com`,
    );
  }
}
