import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connect, type DatabaseTarget } from "../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../shared/db/deadline.js";
import { runMigrations } from "../shared/db/migrate.js";
import { loadEnv } from "../shared/platform/config.js";
import { loadReportsEnv } from "../shared/reports/config.js";
import { type AdvertisedBackfill, advertiseLocalBackfill } from "./advertised.js";
import { ensureDemo } from "./demo.js";
import { type EmbeddedDatabase, startEmbeddedDatabase } from "./embedded-db.js";
import { startGateway } from "./gateway.js";
import { bundleFunctions } from "./lambda-bundle.js";
import { advertiseLocalSes, startLocalSes } from "./ses.js";
import { contextFromEnv, deviationsFromEnv } from "./settings.js";
import { startLocalS3, startLocalSqs, useLocalAws } from "./sqs.js";
import { startupFailure } from "./startup-errors.js";
import { type CfnTemplate, loadStack } from "./template.js";
import { referencedId, type Topology, topologyOf } from "./topology.js";
import { gatewayOptions, type LocalWorld, startLocalWorld } from "./world.js";

/**
 * `npm start`: the whole system on this machine, built from the synthesized template
 * (local/template.ts, local/topology.ts): its queues, functions (each in its own environment with
 * its own variables and timeout), event source mappings, schedules, state machine and API. Order
 * matters: the database is migrated before anything else touches it, and the pollers and
 * schedules start only once the whole world exists.
 */

/** The logical id a stack output refers to (BackfillQueueUrl -> the backfill queue). */
function outputId(template: CfnTemplate, name: string): string {
  const id = referencedId(template.Outputs?.[name]?.Value);
  if (!id) throw new Error(`The template has no output ${name} naming a resource`);
  return id;
}

function describeWorld(topology: Topology, world: LocalWorld): string[] {
  const name = (id: string) => topology.functions[id]?.entry ?? id;
  const sources = topology.eventSources.map((m) => {
    const queue = topology.queues[m.queueId];
    const dlq = queue?.redrive ? `, DLQ after ${queue.redrive.maxReceiveCount} receives` : "";
    return (
      `  consumer:    ${name(m.functionId)} <- ${m.queueId}: batch ${m.batchSize}, window ${m.batchingWindowSeconds} s, ` +
      `max concurrency ${m.maxConcurrency ?? "-"}, visibility ${queue?.visibilityTimeoutSeconds} s${dlq}`
    );
  });
  const schedules = [...world.schedules.values()].map(
    ({ schedule: s, expression }) => `  schedule:    ${name(s.functionId)} on ${expression} ${s.timeZone}`,
  );
  const deviations = world.deviations.map((d) => `  DEVIATION:   ${d}`);
  return [...sources, ...schedules, ...deviations];
}

interface BannerFacts {
  gatewayUrl: string;
  demo: Awaited<ReturnType<typeof ensureDemo>>;
  template: string;
  sqs: string;
  mailbox: string;
  topology: Topology;
  world: LocalWorld;
}

function banner(facts: BannerFacts, database: string[]): string {
  const { gatewayUrl, demo, world } = facts;
  const base = `${gatewayUrl}/query/v1/projects/${demo.projectId}`;
  return [
    "",
    `kapa-service is running at ${gatewayUrl}`,
    `  started in:  ${process.uptime().toFixed(1)} s (template ${facts.template})`,
    ...database,
    `  API docs:    ${gatewayUrl}/redoc   (OpenAPI: ${gatewayUrl}/openapi.json)`,
    `  functions:   ${Object.keys(world.functions).length} from the synthesized KapaServiceStack, each with its own environment and timeout`,
    `  SQS:         ${facts.sqs}; Step Functions: ${world.stepFunctions.endpoint} (npx kapa backfill start)`,
    `  S3:          ${world.s3Endpoint} (path-style), buckets ${[...world.buckets.values()].join(", ")}`,
    `  email:       SES mailbox ${facts.mailbox}  (send reports now: npx kapa report send)`,
    ...describeWorld(facts.topology, world),
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
  ].join("\n");
}

async function openDatabase(env: ReturnType<typeof loadEnv>) {
  if (env.DATABASE_URL) return { target: { url: env.DATABASE_URL, max: 2 } as DatabaseTarget, embedded: undefined };
  const embedded = await startEmbeddedDatabase({ dataDir: env.DATA_DIR, port: env.PGLITE_PORT, advertise: true });
  return { target: embedded.target, embedded };
}

/** Where the operator CLI finds this world's backfill: its queues and its state machine. */
function backfillOf(template: CfnTemplate, world: LocalWorld, sqsEndpoint: string): Omit<AdvertisedBackfill, "pid"> {
  return {
    sqsEndpoint,
    queueUrl: world.queues.get(outputId(template, "BackfillQueueUrl"))?.url as string,
    dlqUrl: world.queues.get(outputId(template, "BackfillDeadLetterQueueUrl"))?.url as string,
    sfnEndpoint: world.stepFunctions.endpoint,
    stateMachineArn: world.stateMachines.get(outputId(template, "BackfillStateMachineArn")) as string,
  };
}

async function main(): Promise<void> {
  // Readable lines on this console (one per request); LOG_FORMAT=json for Lambda's JSON and EMF.
  process.env.LOG_FORMAT ??= "pretty";
  const env = loadEnv();
  mkdirSync(env.DATA_DIR, { recursive: true });
  const synthStarted = Date.now();
  // TEMPLATE_CACHE_DIR: where the synthesized template and the functions' bundles are cached (local; tests share one).
  const cacheDir = process.env.TEMPLATE_CACHE_DIR || join(env.DATA_DIR, "cache");
  // The slow parts at once: the synthesis (a child process, or the cache), the bundles, the database, the emulators.
  const [stack, code, { target, embedded }, sqs, s3, ses] = await Promise.all([
    loadStack({ context: contextFromEnv(), cacheDir }),
    bundleFunctions({ cacheDir }),
    openDatabase(env),
    startLocalSqs(env.SQS_PORT),
    // AWS_ENDPOINT_URL_S3: another S3 (LocalStack, MinIO) instead of the local one.
    process.env.AWS_ENDPOINT_URL_S3 ? undefined : startLocalS3(0),
    startLocalSes(loadReportsEnv().SES_PORT),
  ]);
  const synthSeconds = (Date.now() - synthStarted) / 1000;
  useLocalAws({ sqs: sqs.endpoint });

  // Before anything runs: the schema, then the demo tenant (on a connection of its own: a
  // migration may outlast the API's statement timeout).
  const admin = connect({ ...target, max: 1, timeouts: UNBOUNDED_STATEMENTS });
  await runMigrations(admin.db);
  const demo = await ensureDemo(admin.db, env.DATA_DIR);
  await admin.close();

  const topology = topologyOf(stack);
  const world = await startLocalWorld({
    stack,
    topology,
    code,
    database: { url: target.url, embedded: Boolean(target.embedded) },
    endpoints: {
      sqs: sqs.endpoint,
      ses: ses.endpoint,
      s3: s3?.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 as string),
    },
    sfnPort: env.SFN_PORT,
    deviations: deviationsFromEnv(),
  });
  const gateway = await startGateway({ port: env.PORT, ...gatewayOptions(topology, world) });
  const unadvertise = [
    advertiseLocalSes(env.DATA_DIR, ses),
    advertiseLocalBackfill(env.DATA_DIR, backfillOf(stack.template, world, sqs.endpoint)),
  ];
  // Everything exists: now the pollers and the schedules may run.
  world.start();

  const template = stack.cached ? "cached" : `synthesized now, ${synthSeconds.toFixed(1)} s`;
  process.stdout.write(
    banner({ gatewayUrl: gateway.url, demo, template, sqs: sqs.endpoint, mailbox: ses.mailboxUrl, topology, world }, [
      `  database:    ${
        embedded ? `embedded PGlite in ${env.DATA_DIR}/pglite (served on ${embedded.target.url})` : "DATABASE_URL"
      }`,
    ]),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping...\n`);
    await gateway.close();
    await world.stop();
    for (const undo of unadvertise) undo();
    await ses.stop();
    await sqs.stop();
    await s3?.stop();
    await (embedded as EmbeddedDatabase | undefined)?.stop();
    process.stdout.write("stopped\n");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(`kapa-service failed to start: ${startupFailure(error, process.env.DATABASE_URL)}\n`);
  process.exit(1);
});
