import { bundleFunctions } from "../local/lambda-bundle.js";
import { useLocalAws } from "../local/sqs.js";
import { loadStack, SHARED_CACHE_DIR } from "../local/template.js";
import { topologyOf } from "../local/topology.js";
import { startLocalWorld } from "../local/world.js";

/**
 * The runtime that bench/webhooks.ts kills: the local world of the template (every queue,
 * function and event source mapping, the classifier, the webhook dispatcher, sender and
 * recorder among them) in a process of its own, on the benchmark's SQS emulator and database.
 * The queues live in the emulator (another process), so a restarted world finds what the killed
 * one left: messages in flight come back after their visibility timeout, outbox claims after
 * their lease. Prints one JSON line `{ready, queues}` once everything runs.
 */
const { BENCH_WORLD_DATABASE_URL: databaseUrl, BENCH_WORLD_SQS: sqsEndpoint, BENCH_WORLD_PREFIX: prefix } = process.env;
if (!databaseUrl || !sqsEndpoint || !prefix) throw new Error("run by bench/webhooks.ts");

useLocalAws({ sqs: sqsEndpoint });
const stack = await loadStack({ cacheDir: SHARED_CACHE_DIR });
const code = await bundleFunctions({ cacheDir: SHARED_CACHE_DIR });
const topology = topologyOf(stack);
const world = await startLocalWorld({
  stack,
  topology,
  code,
  database: { url: databaseUrl, embedded: false },
  // No mail is sent here: the SES endpoint is never called.
  endpoints: { sqs: sqsEndpoint, ses: sqsEndpoint, s3: sqsEndpoint },
  sfnPort: 0,
  queuePrefix: prefix,
  deviations: { visibilityTimeoutSeconds: Number(process.env.BENCH_WORLD_VISIBILITY_SECONDS ?? 20) },
});
world.start();
// The dispatcher's schedule fires on the minute; in AWS it has been running since the deploy.
const dispatcher = Object.values(topology.functions).find((f) => f.entry === "webhook-dispatcher");
if (!dispatcher) throw new Error("the template has no webhook dispatcher");
const dispatch = () => world.pool.invoke(dispatcher.logicalId, {}).catch(() => undefined);
void dispatch();
process.stdout.write(`${JSON.stringify({ ready: true, queues: Object.fromEntries(world.queues) })}\n`);
process.on("SIGTERM", () => void world.stop().then(() => process.exit(0)));
