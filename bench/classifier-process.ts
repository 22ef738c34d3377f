import { startClassificationPipeline } from "../local/classification.js";
import { closeRuntime } from "../shared/composition/runtime.js";
import { loadEnv } from "../shared/platform/config.js";

/**
 * The classification pipeline's consumer (event source mapping + classifier handler) in a process
 * of its own, as the classifier Lambda runs off the chat Lambda's CPU in AWS. Takes the queue's
 * name; prints `{"queueUrl"}` once polling, and `{"invocations", "peakConcurrency"}` when its
 * stdin ends, then exits. The environment (database, SQS endpoint, delays) is the parent's.
 */
const pipeline = await startClassificationPipeline({
  env: loadEnv(),
  visibilityTimeoutSeconds: 30,
  sweeperIntervalMs: 0,
  queueName: process.argv[2],
});
process.stdout.write(`${JSON.stringify({ queueUrl: pipeline.queueUrl })}\n`);
process.stdin
  .on("end", async () => {
    await pipeline.stop();
    process.stdout.write(`${JSON.stringify(pipeline.eventSource.stats())}\n`);
    await closeRuntime();
    process.exit(0);
  })
  .resume();
