import { benchBackfillEnqueue } from "./backfill-enqueue.js";
import { benchBackfillPipeline } from "./backfill-pipeline.js";
import { benchChat } from "./chat.js";
import { benchChatClassification } from "./chat-classification.js";
import { benchClassifierThroughput } from "./classifier-throughput.js";
import { benchExport } from "./export.js";
import { benchThreadsList } from "./threads-list.js";

/** `npm run bench [name ...]`: runs the named benchmarks, or all of them. */
const benchmarks: Record<string, () => Promise<void>> = {
  chat: () => benchChat(),
  "threads-list": () => benchThreadsList(),
  "chat-classification": () => benchChatClassification(),
  "classifier-throughput": () => benchClassifierThroughput(),
  "backfill-enqueue": () => benchBackfillEnqueue(),
  "backfill-pipeline": () => benchBackfillPipeline(),
  export: () => benchExport(),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  await (benchmarks[name] as () => Promise<void>)();
}
process.exit(0);
