import { startWorldOn } from "../test/support/local-world.js";

/**
 * The classification pipeline's consumer, the local world's classifier on its live queue (event
 * source mapping + classifier function in its own environment), in a process of its own, as the
 * classifier Lambda runs off the chat Lambda's CPU in AWS. Takes a label for the world's queues;
 * prints `{"queueUrl"}` once polling, and `{"invocations", "peakConcurrency"}` when its stdin
 * ends, then exits. The database, SQS endpoint and classifier delay are the parent's.
 */
const world = await startWorldOn(
  { sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS as string, database: { url: process.env.DATABASE_URL as string } },
  {
    label: process.argv[2] ?? "bench-classification",
    consumers: ["classifier:ClassificationQueueUrl"],
    localEnv: { CLASSIFIER_DELAY_MS: process.env.CLASSIFIER_DELAY_MS ?? "0" },
  },
);
const [live] = world.world.eventSources.values();
process.stdout.write(`${JSON.stringify({ queueUrl: world.queueUrl("ClassificationQueueUrl") })}\n`);
process.stdin
  .on("end", async () => {
    const stats = live?.stats();
    await world.stop();
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    process.exit(0);
  })
  .resume();
