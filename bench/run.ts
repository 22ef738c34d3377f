import { benchAnalytics } from "./analytics.js";
import { benchBackfillEnqueue } from "./backfill-enqueue.js";
import { benchBackfillPipeline } from "./backfill-pipeline.js";
import { benchChat } from "./chat.js";
import { benchChatClassification } from "./chat-classification.js";
import { benchClassifierThroughput } from "./classifier-throughput.js";
import { benchCli } from "./cli.js";
import { benchColdStart } from "./cold-start.js";
import { benchExport } from "./export.js";
import { benchFairnessExports } from "./fairness-exports.js";
import { benchFairnessKeyless } from "./fairness-keyless.js";
import { benchFairnessLabels } from "./fairness-labels.js";
import { benchFaults } from "./faults.js";
import { benchLabelQuality } from "./label-quality.js";
import { benchLabelQualityOffline } from "./label-quality-offline.js";
import { benchSqsSend } from "./sqs-send.js";
import { benchThreadsList } from "./threads-list.js";
import { benchWebhooks } from "./webhooks.js";

/** `npm run bench [name ...]`: runs the named benchmarks, or all of them. */
const benchmarks: Record<string, () => Promise<void>> = {
  chat: () => benchChat(),
  "threads-list": () => benchThreadsList(),
  "chat-classification": () => benchChatClassification(),
  "classifier-throughput": () => benchClassifierThroughput(),
  "cold-start": () => benchColdStart(),
  "backfill-enqueue": () => benchBackfillEnqueue(),
  "backfill-pipeline": () => benchBackfillPipeline(),
  cli: () => benchCli(),
  analytics: () => benchAnalytics(),
  export: () => benchExport(),
  "fairness-exports": () => benchFairnessExports(),
  "sqs-send": () => benchSqsSend(),
  faults: () => benchFaults(),

  "fairness-keyless": () => benchFairnessKeyless(),
  // Issue 23's whole measure: labels, exports and keyless floods, each against a quiet project.
  fairness: async () => {
    await benchFairnessLabels();
    await benchFairnessExports();
    await benchFairnessKeyless();
  },

  "label-quality-offline": () => benchLabelQualityOffline(),
  "label-quality": () => benchLabelQuality(),

  "fairness-labels": () => benchFairnessLabels(),

  webhooks: () => benchWebhooks(),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}\n`);
  process.exit(2);
}
// A benchmark that fails (say, a dependency timing out on a loaded machine) is reported with its
// cause and the others still run; the exit code says that one failed.
const failed: string[] = [];
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  try {
    await (benchmarks[name] as () => Promise<void>)();
  } catch (error) {
    failed.push(name);
    const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`\nbenchmark ${name} failed: ${cause}\n`);
  }
}
if (failed.length > 0) process.stderr.write(`failed benchmarks: ${failed.join(", ")}\n`);
process.exit(failed.length > 0 ? 1 : 0);
