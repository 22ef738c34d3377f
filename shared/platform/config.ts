import * as z from "zod";

/** Every environment variable the service reads, parsed once and checked at cold start. */
const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  /** In AWS: the Secrets Manager secret with the database credentials (RDS Proxy in front). */
  DB_SECRET_ARN: z.string().optional(),
  DB_HOST: z.string().optional(),
  DB_NAME: z.string().default("kapa"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(5),
  /** The server's statement_timeout; the client gives up 400 ms later (shared/db/deadline.ts). 0: none. */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(2000),
  /** A connection attempt (TCP and startup) that takes longer fails. */
  DB_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(2),
  LLM_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  PORT: z.coerce.number().int().min(0).max(65535).default(8002),
  /** Local runtime: 0 (the default) picks a free port, so two `npm start`s never collide; the banner prints it. */
  PGLITE_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  DATA_DIR: z.string().default(".data"),
  /** Where clients reach the API (a custom domain, with the stage path if any): the base of pagination links. */
  PUBLIC_BASE_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  AUTHORIZER_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /** The live classification queue (new threads, relabel requests, sweeper re-sends). */
  CLASSIFICATION_QUEUE_URL: z.string().optional(),
  /** Emulates a hosted model's cost: each classification waits this long before answering. */
  CLASSIFIER_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(2000),
  /** The `local` classifier's word vectors; unset: the file beside its module (a checkout). In Lambda: shipped in the bundle. */
  CLASSIFIER_VECTORS_PATH: z.string().optional(),
  /** The classifier provider (docs/classification.md): `local`, embedded; `bedrock`, a model on Amazon Bedrock. The template sets it (kapa:classifier). */
  CLASSIFIER_PROVIDER: z.enum(["local", "bedrock"]).default("local"),
  /** The `bedrock` provider's model: a foundation model or inference profile id (kapa:classifierModel); unset: the default. */
  CLASSIFIER_MODEL_ID: z.string().optional(),
  /** The `bedrock` provider: one Converse call may take this long (a batch's calls run in parallel in a 60 s function). */
  CLASSIFIER_TIMEOUT_MS: z.coerce.number().int().min(100).max(50_000).default(20_000),
  /** Fault injection: the share of classifications that fail (0..1). */
  CLASSIFIER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  /** A thread still unlabelled this long after it was last sent to the classifier is sent again. */
  SWEEPER_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /**
   * How far back the sweeper looks: older unlabelled threads are the backfill's job, so that a
   * million pre-existing threads never flood the live queue.
   */
  SWEEPER_LOOKBACK_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24),
  /** Threads one sweeper run re-sends at most (the next run takes the rest). */
  SWEEPER_MAX_THREADS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Local runtime: the SQS emulator (a process of its own); 0 (the default) picks a free port, printed at start. The queues and their consumers come from the template: local/world.ts. */
  SQS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** The backfill state machine (Step Functions): reclassify jobs and `npx kapa backfill`. */
  BACKFILL_STATE_MACHINE_ARN: z.string().optional(),
  /** The backfill queue (EnqueueRange sends to it; the classifier drains it at its own cap). */
  BACKFILL_QUEUE_URL: z.string().optional(),
  /** Its dead-letter queue (`npx kapa backfill status` shows its depth). */
  BACKFILL_DLQ_URL: z.string().optional(),
  /**
   * Local runtime: port of the local Step Functions endpoint on 127.0.0.1. 0, the default: any
   * free port (`npx kapa` finds it in DATA_DIR/local-backfill.json; the banner prints it).
   */
  SFN_PORT: z.coerce.number().int().min(0).max(65535).default(0),
});

export type Env = z.infer<typeof envSchema>;

/**
 * Parses the environment with a schema, treating an empty variable (`DATABASE_URL= npm start`)
 * as unset, and fails with every problem named.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.output<S> {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return parseEnv(envSchema, source);
}
