import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import * as z from "zod";
import { BEDROCK_MODEL_ID_PATTERN, DEFAULT_BEDROCK_MODEL_ID } from "../shared/classification/bedrock/model-id.js";
import { DEFAULT_EXPORT_URL_TTL_SECONDS } from "../shared/exports/config.js";
import {
  checkTimeZone,
  DEFAULT_REPORT_SCHEDULE,
  DEFAULT_REPORT_TIME_ZONE,
  parseScheduleExpression,
} from "../shared/reports/schedule.js";

/**
 * The deploy-time knobs of the stack, read from CDK context (`cdk.json` holds the defaults;
 * override one with `npx cdk deploy -c kapa:stageName=staging`). One schema: each key of
 * `contextSchema` is a context key without its `kapa:` prefix, with its default and its check;
 * `StackSettings` is what it parses to. Parsed and checked once at synth so that a typo fails
 * fast with a clear message instead of producing an odd template.
 */
const PREFIX = "kapa:";

/** Context values from `-c key=value` arrive as strings, those from cdk.json as JSON values. */
const fromContextString = (raw: unknown) => (typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw);

/** A number in [min, max], a multiple of step, with no default. Every message below reads "expected <message>". */
function anyNumber(min: number, max: number, step: number) {
  const expected = `a multiple of ${step} in [${min}, ${max}]`;
  return z.preprocess(
    fromContextString,
    z.number({ error: expected }).refine((v) => v >= min && v <= max && v % step === 0, { error: expected }),
  );
}

function number(min: number, max: number, step: number, fallback: number) {
  return anyNumber(min, max, step).default(fallback);
}

const int = (min: number, max: number, fallback: number) => number(min, max, 1, fallback);
/** Aurora Serverless v2 capacity is set in half ACUs. */
const acu = (min: number, max: number, fallback: number) => number(min, max, 0.5, fallback);

const boolean = () =>
  z.preprocess((raw) => (raw === "true" ? true : raw === "false" ? false : raw), z.boolean({ error: "true or false" }));

function string(pattern: RegExp, fallback: string) {
  const expected = `a string matching ${pattern}`;
  return z.string({ error: expected }).regex(pattern, { error: expected }).default(fallback);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z.enum(values, { error: `a string matching /^(${values.join("|")})$/` }).default(fallback);
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const RETENTION_DAYS = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === "number");

const contextSchema = z.object({
  /**
   * `default`: one writer, no deletion protection. `prod`: deletion protection and a reader to
   * fail over to. `dev`: the cheapest idle (docs/aws-operations.md): no RDS Proxy, interface
   * endpoints in one AZ, Aurora scaling to 0 ACUs (auto-pause). PROFILE_DEFAULTS has each
   * profile's values; an explicit kapa:<setting> wins.
   */
  profile: oneOf(["default", "prod", "dev"], "default"),
  /** API Gateway stage name (the first path segment of the API URL). */
  stageName: string(/^[A-Za-z0-9_]{1,128}$/, "prod"),
  /** Stage-wide steady-state requests per second. */
  throttlingRateLimit: int(1, 100_000, 100),
  /** Stage-wide burst bucket size. */
  throttlingBurstLimit: int(1, 100_000, 200),
  /** How long API Gateway caches an authorizer decision per X-API-KEY. */
  authorizerCacheTtlSeconds: int(0, 3600, 60),
  /** Aurora Serverless v2 capacity range, in ACUs (0.5 steps); a minimum of 0 pauses an idle database. Default: the profile's. */
  dbMinCapacity: anyNumber(0, 256, 0.5).optional(),
  dbMaxCapacity: acu(1, 256, 4),
  /** Stop `cdk destroy` (and CloudFormation) from deleting the database cluster. Default: the profile's. */
  dbDeletionProtection: boolean().optional(),
  /** A second Aurora Serverless v2 instance in the other AZ, promoted if the writer fails. Default: the profile's. */
  dbReaderInstance: boolean().optional(),
  /** RDS Proxy in front of the cluster (connection pooling for many Lambdas). Default: the profile's. */
  dbProxy: boolean().optional(),
  /** AZs the interface VPC endpoints have a network interface in (each one is billed per AZ-hour). Default: the profile's. */
  interfaceEndpointAzs: anyNumber(1, 2, 1).optional(),
  /** Retention of every log group the stack creates (StackSettings.logRetention), one of CloudWatch's values. */
  logRetentionDays: int(1, 3653, RetentionDays.ONE_MONTH).transform((days): RetentionDays => days),
  /** LOG_LEVEL of every function. */
  logLevel: oneOf(["debug", "info", "warn", "error", "silent"], "info"),
  /** Latency of the dummy LLM (LLM_DELAY_MS). */
  llmDelayMs: int(0, 600_000, 1000),
  /** Connections per Lambda execution environment (DB_POOL_MAX): RDS Proxy does the pooling. */
  dbPoolMax: int(1, 10, 2),
  /** X-Ray active tracing on every function and the API stage. */
  tracing: boolean().default(false),
  /**
   * Latency of the dummy classifier (CLASSIFIER_DELAY_MS): about 2 s per question, like a real LLM
   * call. The classifier's timeout is 60 s (constructs/classification.ts); one question must fit well inside it.
   */
  classifierDelayMs: int(0, 30_000, 2000),
  /**
   * The classifier provider (CLASSIFIER_PROVIDER; docs/classification.md): `local`, the embedded
   * classifier; `bedrock`, a model on Amazon Bedrock (its IAM grant and VPC endpoint come with it).
   */
  classifier: oneOf(["local", "bedrock"], "local"),
  /** The `bedrock` provider's model (CLASSIFIER_MODEL_ID): a foundation model or inference profile id. */
  classifierModel: string(BEDROCK_MODEL_ID_PATTERN, DEFAULT_BEDROCK_MODEL_ID),
  /** Messages per classifier invocation (live queue), classified in parallel; at most 10 without a batching window. */
  classifierBatchSize: int(1, 10, 10),
  /** How long the live queue's event source gathers messages before invoking the classifier. */
  classifierBatchingWindowSeconds: int(0, 300, 1),
  /** The live queue's event source mapping maxConcurrency: the classifier's concurrency cap (AWS: 2..1000). */
  classifierMaxConcurrency: int(2, 1000, 5),
  /**
   * The classifier's reserved concurrency: at least the sum of its mappings' caps (live + backfill).
   * 0: none, for an account whose Lambda concurrency quota leaves nothing to reserve (a new
   * account's quota of 10; Lambda keeps 100 unreserved): the mappings' caps still bound the classifier.
   */
  classifierReservedConcurrency: z
    .preprocess(
      fromContextString,
      z
        .number({ error: "0 or an integer in [2, 10000]" })
        .refine((v) => v === 0 || (Number.isInteger(v) && v >= 2 && v <= 10_000), {
          error: "0 or an integer in [2, 10000]",
        }),
    )
    .default(7),
  /** How often the sweeper re-enqueues threads left unclassified. */
  sweeperIntervalMinutes: int(1, 1440, 5),
  /** The sweeper leaves threads younger than this to the live path (SWEEPER_GRACE_SECONDS). */
  sweeperGraceSeconds: int(0, 86_400, 300),
  /** At most this many threads re-enqueued per sweeper run (SWEEPER_MAX_THREADS). */
  sweeperMaxThreads: int(1, 1_000_000, 10_000),
  /** How far back the sweeper looks (SWEEPER_LOOKBACK_HOURS): older unlabelled threads are the backfill's. */
  sweeperLookbackHours: int(1, 24 * 365, 24),
  /** Alarm when the live queue's oldest message is older than this (SQS keeps a message at most 14 days). */
  queueAgeAlarmSeconds: int(60, 1_209_600, 900),
  /**
   * The backfill queue's event source maxConcurrency (AWS: 2..1000): lower than the live queue's,
   * so live threads keep their pace.
   */
  backfillMaxConcurrency: int(2, 1000, 2),
  /** Thread ids per Plan page of the backfill state machine (a multiple of backfillRangeSize). */
  backfillPageSize: int(1, 10_000_000, 1_000_000),
  /** Thread ids per range: what one EnqueueRange Lambda sends to the backfill queue. */
  backfillRangeSize: int(1, 1_000_000, 100_000),
  /** The backfill Map state's MaxConcurrency: EnqueueRange Lambdas at once (an inline Map runs at most 40). */
  backfillMapConcurrency: int(1, 40, 10),
  /** When the usage reports go out: an EventBridge Scheduler expression, `cron(...)` or `rate(...)`. */
  reportSchedule: string(/^(cron|rate)\(.+\)$/, DEFAULT_REPORT_SCHEDULE),
  /** The IANA time zone of `reportSchedule`'s cron fields. */
  reportTimeZone: string(/^[A-Za-z0-9_+/-]+$/, DEFAULT_REPORT_TIME_ZONE),
  /** The From address of the usage reports: an SES email identity the stack creates (verify it once). */
  reportSender: string(EMAIL, "reports@example.com"),
  /**
   * Emails per second the reports may send: at most the SES account's maximum sending rate
   * (1 in the sandbox, 14 at the start of production access); shared by the sender's environments.
   */
  sesMaxSendRate: int(1, 10_000, 1),
  /** Steady-state requests per second of one API key (API Gateway usage plan); 0 turns per-key limits off. */
  perKeyRateLimit: int(0, 100_000, 20),
  /** Burst bucket of one API key (usage plan). */
  perKeyBurstLimit: int(0, 100_000, 40),
  /** Requests per key per UTC day (usage plan quota); 0: no quota. */
  perKeyDailyQuota: int(0, 1_000_000_000, 0),
  /**
   * The API's methods require a usage plan key (from the authorizer), which is what enforces the
   * per-key limits. Off only while rolling out: deploy, register the existing keys, turn it on.
   */
  requireUsagePlanKey: boolean().default(true),
  /** An AWS WAF web ACL on the stage (constructs/waf.ts) with the rate rules below. */
  waf: boolean().default(true),
  /** The WAF rate rules' evaluation window, in seconds: one of WAF's 60, 120, 300 or 600. */
  wafWindowSeconds: int(60, 600, 60),
  /**
   * Requests without a key, or with a value that cannot be a key, that one IP address may send
   * per window (each kind its own rule; WAF's minimum is 10) before WAF answers 429. Keep twice
   * it below kapa:throttlingBurstLimit, so such requests from one address cannot empty the stage's bucket.
   */
  wafKeylessLimit: int(10, 2_000_000_000, 50),
  /**
   * Requests per window per X-API-KEY value (a WAF custom aggregation key: one more rule, billed
   * as such); 0: no such rule. Default: the profile's (WAF_PROFILE_DEFAULTS).
   */
  wafPerKeyLimit: z
    .preprocess(
      fromContextString,
      z.number({ error: "an integer in [0, 2000000000]" }).int().min(0).max(2_000_000_000, {
        error: "an integer in [0, 2000000000]",
      }),
    )
    .optional(),
  /** Where alarm notifications are emailed (an SNS email subscription to confirm once); "": no subscription. */
  alarmEmail: string(/^$|^[^\s@]+@[^\s@]+\.[^\s@]+$/, ""),
  /** Days between rotations of the database credentials (Secrets Manager: 1..1000); 0: no rotation. */
  dbSecretRotationDays: int(0, 1000, 30),
  /**
   * Lifetime of an export's presigned download link (EXPORT_URL_TTL_SECONDS): a presigned link
   * works at most 7 days (SigV4), and no longer than the signing role's session.
   */
  exportUrlTtlSeconds: int(60, 7 * 86_400, DEFAULT_EXPORT_URL_TTL_SECONDS),
});

type ContextSettings = z.output<typeof contextSchema>;

/**
 * The backfill state machine's page must split into whole ranges, and at most 40 of them: the
 * page's ranges travel in the state (about 90 bytes each, far below 256 KB) and each costs 7
 * history events (docs/backfill.md has the arithmetic against the 25,000-event limit).
 */
export const MAX_BACKFILL_RANGES_PER_PAGE = 40;

type ProfileKey = "dbDeletionProtection" | "dbReaderInstance" | "dbProxy" | "interfaceEndpointAzs" | "dbMinCapacity";

/** What a profile changes in the defaults (the database is removed with a final snapshot in all). */
export const PROFILE_DEFAULTS = {
  default: {
    dbDeletionProtection: false,
    dbReaderInstance: false,
    dbProxy: true,
    interfaceEndpointAzs: 2,
    dbMinCapacity: 0.5,
  },
  prod: {
    dbDeletionProtection: true,
    dbReaderInstance: true,
    dbProxy: true,
    interfaceEndpointAzs: 2,
    dbMinCapacity: 0.5,
  },
  dev: {
    dbDeletionProtection: false,
    dbReaderInstance: false,
    dbProxy: false,
    interfaceEndpointAzs: 1,
    dbMinCapacity: 0,
  },
} as const satisfies Record<ContextSettings["profile"], { [K in ProfileKey]-?: NonNullable<ContextSettings[K]> }>;

/**
 * The WAF rule per key value in each profile: off by default; in `prod`, twice what the usage plan
 * lets one key send in a window, so a key within its plan never meets it.
 */
type WindowLimits = Pick<
  ContextSettings,
  "perKeyRateLimit" | "perKeyBurstLimit" | "throttlingRateLimit" | "throttlingBurstLimit" | "wafWindowSeconds"
>;

/** The most one key may send in a WAF window under its usage plan (or the stage's limits without one). */
export function perKeyWindowAllowance(s: WindowLimits): number {
  return s.perKeyRateLimit > 0
    ? s.perKeyRateLimit * s.wafWindowSeconds + s.perKeyBurstLimit
    : s.throttlingRateLimit * s.wafWindowSeconds + s.throttlingBurstLimit;
}

/**
 * The WAF rule per key value in each profile: off by default; in `prod`, twice what one key may
 * send in a window, so a key within its plan never meets it.
 */
export const WAF_PROFILE_DEFAULTS = {
  default: () => 0,
  dev: () => 0,
  prod: (s: WindowLimits) => 2 * perKeyWindowAllowance(s),
} as const satisfies Record<ContextSettings["profile"], (s: WindowLimits) => number>;

type Problem = [key: keyof ContextSettings, expected: string, got: unknown] | undefined;

/** The checks that span settings (each field's own check is in its schema). */
function crossChecks(s: ContextSettings): Problem[] {
  const { backfillPageSize: page, backfillRangeSize: range } = s;
  const schedule = (expression: string): Problem => {
    try {
      parseScheduleExpression(expression);
    } catch (error) {
      return ["reportSchedule", `an EventBridge Scheduler expression (${(error as Error).message})`, expression];
    }
  };
  const timeZone = (zone: string): Problem => {
    try {
      checkTimeZone(zone);
    } catch {
      return ["reportTimeZone", "an IANA time zone name such as Europe/Berlin", zone];
    }
  };
  return [
    RETENTION_DAYS.includes(s.logRetentionDays)
      ? undefined
      : ["logRetentionDays", `one of ${RETENTION_DAYS.join(", ")}`, s.logRetentionDays],
    page % range !== 0 || page / range > MAX_BACKFILL_RANGES_PER_PAGE
      ? [
          "backfillPageSize",
          `a multiple of kapa:backfillRangeSize (${range}), at most ${MAX_BACKFILL_RANGES_PER_PAGE} times it`,
          page,
        ]
      : undefined,
    // A key's burst bucket holds at least a second of its rate (above the stage's limits, the stage's apply).
    s.perKeyRateLimit > 0 && s.perKeyBurstLimit < s.perKeyRateLimit
      ? ["perKeyBurstLimit", `at least kapa:perKeyRateLimit (${s.perKeyRateLimit})`, s.perKeyBurstLimit]
      : undefined,
    s.dbMaxCapacity < (s.dbMinCapacity ?? 0)
      ? ["dbMaxCapacity", `at least kapa:dbMinCapacity (${s.dbMinCapacity})`, s.dbMaxCapacity]
      : undefined,
    s.throttlingBurstLimit < s.throttlingRateLimit
      ? ["throttlingBurstLimit", `at least kapa:throttlingRateLimit (${s.throttlingRateLimit})`, s.throttlingBurstLimit]
      : undefined,
    [60, 120, 300, 600].includes(s.wafWindowSeconds)
      ? undefined
      : ["wafWindowSeconds", "one of 60, 120, 300, 600", s.wafWindowSeconds],
    s.wafPerKeyLimit && s.wafPerKeyLimit < Math.max(10, perKeyWindowAllowance(s))
      ? [
          "wafPerKeyLimit",
          `0 or at least what one key may send per window (${perKeyWindowAllowance(s)})`,
          s.wafPerKeyLimit,
        ]
      : undefined,
    schedule(s.reportSchedule),
    timeZone(s.reportTimeZone),
  ];
}

const settingsSchema = contextSchema
  .superRefine((settings, ctx) => {
    for (const problem of crossChecks(settings)) {
      if (problem)
        ctx.addIssue({ code: "custom", path: [problem[0]], message: problem[1], params: { got: problem[2] } });
    }
  })
  .transform(({ logRetentionDays, ...settings }) => {
    const profile: Record<ProfileKey, number | boolean> = PROFILE_DEFAULTS[settings.profile];
    return {
      ...settings,
      logRetention: logRetentionDays,
      dbDeletionProtection: settings.dbDeletionProtection ?? (profile.dbDeletionProtection as boolean),
      dbReaderInstance: settings.dbReaderInstance ?? (profile.dbReaderInstance as boolean),
      dbProxy: settings.dbProxy ?? (profile.dbProxy as boolean),
      interfaceEndpointAzs: settings.interfaceEndpointAzs ?? (profile.interfaceEndpointAzs as number),
      dbMinCapacity: settings.dbMinCapacity ?? (profile.dbMinCapacity as number),
      wafPerKeyLimit: settings.wafPerKeyLimit ?? WAF_PROFILE_DEFAULTS[settings.profile](settings),
    };
  });

/** The settings of the stack: what `contextSchema` parses to. */
export type StackSettings = z.output<typeof settingsSchema>;

/** The settings' CDK context keys, without their `kapa:` prefix. */
export const SETTING_KEYS = Object.keys(contextSchema.shape);

/**
 * Parses CDK context (keys with their `kapa:` prefix, as in cdk.json; other keys are ignored).
 * An invalid value fails with `Invalid CDK context kapa:<key>: expected ..., got <value>`: the
 * value as given, or, for a check across settings, as parsed.
 */
export function parseSettings(context: Readonly<Record<string, unknown>> = {}): StackSettings {
  const values = Object.fromEntries(SETTING_KEYS.map((key) => [key, context[PREFIX + key]]));
  const parsed = settingsSchema.safeParse(values);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0]);
    const got = issue.code === "custom" && issue.params && "got" in issue.params ? issue.params.got : values[key];
    return `Invalid CDK context ${PREFIX}${key}: expected ${issue.message}, got ${JSON.stringify(got)}`;
  });
  throw new Error(problems.join("; "));
}

/** The settings of a construct tree's CDK context. */
export function readSettings(node: Node): StackSettings {
  return parseSettings(Object.fromEntries(SETTING_KEYS.map((key) => [PREFIX + key, node.tryGetContext(PREFIX + key)])));
}

/** The schema's defaults: the settings of an empty context. */
export const DEFAULT_SETTINGS: StackSettings = parseSettings();

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
