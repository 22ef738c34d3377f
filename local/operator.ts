import { join } from "node:path";
import type { DatabaseTarget } from "../shared/db/client.js";
import type { Env } from "../shared/platform/config.js";
import type { AdvertisedBackfill } from "./advertised.js";
import type { LocalDatabase } from "./database.js";

/**
 * The one entry of the operator's commands (cli/) into local/ (docs/architecture.md): the local
 * database of DATA_DIR, what a running `npm start` advertises there, and, for `npx kapa backfill
 * start` without npm start, the local world started in the CLI's process. Everything else the
 * CLI does goes through the AWS SDK clients it uses against AWS, pointed at these endpoints.
 * Modules load on first use: a command pays only for what it uses.
 */
export { type AdvertisedBackfill, findRunningLocalBackfill } from "./advertised.js";
export type { LocalDatabase } from "./database.js";

export async function openLocalDatabase(env: Env): Promise<LocalDatabase> {
  return (await import("./database.js")).openLocalDatabase(env);
}

export async function findRunningLocalSes(dataDir: string): Promise<string | null> {
  return (await import("./ses.js")).findRunningLocalSes(dataDir);
}

export interface BackfillWorld extends Omit<AdvertisedBackfill, "pid"> {
  stop(): Promise<void>;
}

/**
 * The world `npm start` builds (the synthesized template, with npm start's context and declared
 * deviations from the environment), on emulators of its own, with only the backfill's event
 * source running (the classifier on the backfill queue) and no schedules.
 */
export async function startBackfillWorld(database: DatabaseTarget, env: Env): Promise<BackfillWorld> {
  const [
    { startLocalSes },
    { contextFromEnv, deviationsFromEnv },
    { startLocalSqs },
    { loadStack },
    topologyModule,
    { bundleFunctions },
  ] = await Promise.all([
    import("./ses.js"),
    import("./settings.js"),
    import("./sqs.js"),
    import("./template.js"),
    import("./topology.js"),
    import("./lambda-bundle.js"),
  ]);
  const { referencedId, topologyOf } = topologyModule;
  const { startLocalWorld } = await import("./world.js");
  const cacheDir = join(env.DATA_DIR, "cache");
  const [stack, code] = await Promise.all([
    loadStack({ context: contextFromEnv(), cacheDir }),
    bundleFunctions({ cacheDir }),
  ]);
  const topology = topologyOf(stack);
  const output = (name: string) => referencedId(stack.template.Outputs?.[name]?.Value) as string;
  const [sqs, ses] = await Promise.all([startLocalSqs(0), startLocalSes(0)]);
  const world = await startLocalWorld({
    stack,
    topology,
    code,
    database: { url: database.url, embedded: Boolean(database.embedded) },
    // fauxqs serves S3 on the SQS endpoint.
    endpoints: { sqs: sqs.endpoint, ses: ses.endpoint, s3: sqs.endpoint },
    sfnPort: 0,
    deviations: deviationsFromEnv(),
    running: { eventSources: (m) => m.queueId === output("BackfillQueueUrl"), schedules: () => false },
  });
  world.start();
  const queue = (name: string) => world.queues.get(output(name))?.url as string;
  return {
    sqsEndpoint: sqs.endpoint,
    queueUrl: queue("BackfillQueueUrl"),
    dlqUrl: queue("BackfillDeadLetterQueueUrl"),
    sfnEndpoint: world.stepFunctions.endpoint,
    stateMachineArn: world.stateMachines.get(output("BackfillStateMachineArn")) as string,
    async stop() {
      await world.stop();
      await Promise.all([ses.stop(), sqs.stop()]);
    },
  };
}
