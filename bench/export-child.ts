import { startGateway } from "../local/gateway.js";
import { startLocalSqs, useLocalAws } from "../local/sqs.js";
import { gatewayOptions } from "../local/world.js";
import { startWorldOn } from "../test/support/local-world.js";

/**
 * One export through the local system, in a process of its own so that its peak RSS is the
 * export's (bench/export.ts runs it per size): the SQS emulator and the local world's API and
 * export worker behind its event source (their environments are worker threads of this process); the S3 emulator is another process (AWS_ENDPOINT_URL_S3), since it
 * keeps every object in its memory. Prints one JSON line.
 */
const { BENCH_PROJECT_ID: projectId, BENCH_API_KEY: apiKey, BENCH_EXPORT_FORMAT: format = "csv" } = process.env;
if (!projectId || !apiKey || !process.env.AWS_ENDPOINT_URL_S3) throw new Error("run by bench/export.ts");

const sqs = await startLocalSqs(0);
useLocalAws({ sqs: sqs.endpoint });
const world = await startWorldOn(
  {
    sqsEndpoint: sqs.endpoint,
    s3Endpoint: process.env.AWS_ENDPOINT_URL_S3,
    database: { url: process.env.DATABASE_URL as string },
  },
  { label: "bench-export", consumers: ["export-worker"] },
);
const gateway = await startGateway({ port: 0, ...gatewayOptions(world.topology, world.world) });
const base = `${gateway.url.replace("localhost", "127.0.0.1")}/query/v1/projects/${projectId}/exports/`;
const headers = { "X-API-KEY": apiKey, "content-type": "application/json" };

/** Peaks of the process's memory, sampled: where the RSS goes (V8 heap, or buffers outside it). */
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
const sampler = setInterval(() => {
  const now = process.memoryUsage();
  peak.rss = Math.max(peak.rss, now.rss);
  peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
  peak.heapTotal = Math.max(peak.heapTotal, now.heapTotal);
  peak.external = Math.max(peak.external, now.external);
}, 50);
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const rssBefore = process.memoryUsage.rss();
const started = performance.now();
const created = await fetch(base, { method: "POST", headers, body: JSON.stringify({ format }) });
if (created.status !== 202) throw new Error(`POST exports answered ${created.status}: ${await created.text()}`);
const { id } = (await created.json()) as { id: string };
let result: { status: string; rows: number; url: string | null };
for (;;) {
  const reply = await fetch(`${base}${id}/`, { headers });
  result = (await reply.json()) as typeof result;
  if (result.status !== "queued" && result.status !== "running") break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    ...result,
    seconds: Math.round(seconds * 100) / 100,
    rss_before_mb: mb(rssBefore),
    peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
    peak_sampled_rss_mb: mb(peak.rss),
    peak_heap_used_mb: mb(peak.heapUsed),
    peak_heap_total_mb: mb(peak.heapTotal),
    peak_external_mb: mb(peak.external),
  })}\n`,
);
await gateway.close();
await world.stop();
await sqs.stop();
process.exit(0);
