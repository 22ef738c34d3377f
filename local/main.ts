import { mkdirSync } from "node:fs";
import { loadEnv } from "../shared/config.js";
import { connect } from "../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../shared/db/deadline.js";
import { runMigrations } from "../shared/db/migrate.js";
import { resolveDatabaseTarget } from "../shared/db/target.js";
import { closeRuntime, runtime } from "../shared/runtime.js";
import { startLocalBackfill } from "./backfill.js";
import { startClassificationPipeline } from "./classification.js";
import { ensureDemo } from "./demo.js";
import { type EmbeddedDatabase, startEmbeddedDatabase } from "./embedded-db.js";
import { startExportPipeline } from "./exports.js";
import { startGateway } from "./gateway.js";
import { startReportPipeline } from "./reports.js";
import { startLocalSqs, useLocalAws } from "./sqs.js";
import { startupFailure } from "./startup-errors.js";

/**
 * `npm start`: the whole system on this machine. The handlers run in this process exactly as
 * they would in Lambda; the gateway plays API Gateway.
 */
async function main(): Promise<void> {
  // Readable lines on this console (one per request); LOG_FORMAT=json for Lambda's JSON and EMF.
  process.env.LOG_FORMAT ??= "pretty";
  const env = loadEnv();
  mkdirSync(env.DATA_DIR, { recursive: true });
  let embedded: EmbeddedDatabase | undefined;
  if (!env.DATABASE_URL) {
    embedded = await startEmbeddedDatabase({ dataDir: env.DATA_DIR, port: env.PGLITE_PORT, advertise: true });
    // The handlers build their runtime from the environment, as in Lambda.
    process.env.DATABASE_URL = embedded.target.url;
    process.env.KAPA_EMBEDDED_DB = "1";
  }
  const sqs = await startLocalSqs(env.SQS_PORT);
  useLocalAws({ sqs: sqs.endpoint });
  const classification = await startClassificationPipeline({
    env,
    visibilityTimeoutSeconds: env.CLASSIFIER_VISIBILITY_TIMEOUT_SECONDS,
    sweeperIntervalMs: env.SWEEPER_INTERVAL_SECONDS * 1000,
  });
  const reports = await startReportPipeline({ dataDir: env.DATA_DIR, visibilityTimeoutSeconds: 30 });
  const exports = await startExportPipeline({ s3Endpoint: sqs.endpoint, visibilityTimeoutSeconds: 900 });
  const backfill = await startLocalBackfill({
    env,
    visibilityTimeoutSeconds: env.CLASSIFIER_VISIBILITY_TIMEOUT_SECONDS,
    dataDir: env.DATA_DIR,
    advertise: true,
  });
  const { database } = await runtime();
  await migrate();
  const demo = await ensureDemo(database.db, env.DATA_DIR);
  const gateway = await startGateway({
    port: env.PORT,
    authorizerCacheTtlSeconds: env.AUTHORIZER_CACHE_TTL_SECONDS,
    perKey: {
      rateLimit: env.PER_KEY_RATE_LIMIT,
      burstLimit: env.PER_KEY_BURST_LIMIT,
      dailyQuota: env.PER_KEY_DAILY_QUOTA,
    },
  });

  const base = `${gateway.url}/query/v1/projects/${demo.projectId}`;
  const dbDescription = embedded
    ? `embedded PGlite in ${env.DATA_DIR}/pglite (served on ${embedded.target.url})`
    : "DATABASE_URL";
  process.stdout.write(
    [
      "",
      `kapa-service is running at ${gateway.url}`,
      `  database:    ${dbDescription}`,
      `  API docs:    ${gateway.url}/redoc   (OpenAPI: ${gateway.url}/openapi.json)`,
      `  SQS:         ${sqs.endpoint} (classifier: batch ${env.CLASSIFIER_BATCH_SIZE}, max concurrency ${env.CLASSIFIER_MAX_CONCURRENCY}, ${env.CLASSIFIER_DELAY_MS} ms per question; sweeper every ${env.SWEEPER_INTERVAL_SECONDS} s)`,
      ...reports.banner(),
      `  exports:     S3 ${exports.s3Endpoint}, bucket ${exports.bucket} (POST .../exports/)`,
      ...backfill.banner(),
      `  demo:        team ${demo.teamId}, project ${demo.projectId}${demo.created ? " (created now)" : ""}`,
      "",
      "Ask the demo project's bot a question:",
      "",
      `  curl -s -X POST ${base}/chat \\`,
      `    -H 'X-API-KEY: ${demo.apiKey}' -H 'Content-Type: application/json' \\`,
      `    -d '{"question": "How do I create an API key?"}'`,
      "",
      `List its threads:  curl -s ${base}/threads/ -H 'X-API-KEY: ${demo.apiKey}'`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping...\n`);
    await gateway.close();
    await classification.stop();
    await reports.stop();
    await exports.stop();
    await backfill.stop();
    await sqs.stop();
    await closeRuntime();
    await embedded?.stop();
    process.stdout.write("stopped\n");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Migrations on a connection of their own: a migration may outlast the API's statement timeout. */
async function migrate(): Promise<void> {
  const target = await resolveDatabaseTarget(loadEnv());
  const database = connect({ ...target, max: 1, timeouts: UNBOUNDED_STATEMENTS });
  try {
    await runMigrations(database.db);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`kapa-service failed to start: ${startupFailure(error, process.env.DATABASE_URL)}\n`);
  process.exit(1);
});
