import path from "node:path";
import { startTsProcess, type TsProcess } from "../local/sqs.js";
import { createTenant } from "../shared/admin/tenants.js";
import type { ClassificationQueue } from "../shared/classification/queue.js";
import { runtime } from "../shared/composition/runtime.js";
import { RagAgent } from "../shared/rag/agent.js";
import { DummyLlmClient } from "../shared/rag/llm.js";
import { KeywordRetriever } from "../shared/rag/retriever.js";
import { benchEnvironment, report, type Stats, stats, timeIt } from "./lib.js";

/** "Pipeline off": the chat sends nothing. */
const noClassification: ClassificationQueue = { send: async () => {} };

/** Issue 24's criterion for "the SDK's send is not slower": at a 1 s LLM, on/off at p50 and p99. */
const TARGET_AT_1S_LLM = { p50: 1.01, p99: 1.05 };

/** BENCH_CC_ONLY=on|off runs one mode (to profile it alone: node --cpu-prof --import tsx bench/run.ts ...). */
const MODES = (["on", "off"] as const).filter((m) => !process.env.BENCH_CC_ONLY || m === process.env.BENCH_CC_ONLY);

type Runtime = Awaited<ReturnType<typeof runtime>>;

/** Chat latencies with the pipeline on and off, interleaved round by round, with this LLM delay. */
async function onAndOff(
  rt: Runtime,
  live: ClassificationQueue,
  post: () => Promise<void>,
  plan: { llmDelayMs: number; rounds: number; clients: number },
): Promise<{ on: Stats; off: Stats; cpu_ms_per_request: { on: number; off: number } }> {
  rt.agent = new RagAgent(new KeywordRetriever(), new DummyLlmClient(plan.llmDelayMs));
  const samples = { on: [] as number[], off: [] as number[] };
  const cpuMs = { on: 0, off: 0 };
  for (let i = 0; i < 20; i++) await post(); // warm-up
  for (let round = 0; round < plan.rounds; round++) {
    for (const mode of MODES) {
      rt.classificationQueue = mode === "on" ? live : noClassification;
      const cpu = process.cpuUsage();
      const times = await Promise.all(Array.from({ length: plan.clients }, () => timeIt(post)));
      const used = process.cpuUsage(cpu);
      cpuMs[mode] += (used.user + used.system) / 1000;
      samples[mode].push(...times);
    }
  }
  const perRequest = (mode: "on" | "off") =>
    samples[mode].length ? Math.round((cpuMs[mode] / samples[mode].length) * 1000) / 1000 : 0;
  return {
    on: stats(samples.on),
    off: stats(samples.off),
    // This process's CPU (client, gateway, handler, send) per request: what the send adds to it.
    cpu_ms_per_request: { on: perRequest("on"), off: perRequest("off") },
  };
}

const ratio = (r: { on: Stats; off: Stats }) => ({
  p50: Math.round((r.on.p50 / r.off.p50) * 1000) / 1000,
  p99: Math.round((r.on.p99 / r.off.p99) * 1000) / 1000,
});

/**
 * Chat latency with the classification pipeline on (each new thread sent to the live queue, the
 * classifier consuming it with CLASSIFIER_DELAY_MS=2000) and off (nothing sent), over HTTP through
 * the local gateway, on and off interleaved request by request so both see the same machine. As
 * in AWS, the queue (the SQS emulator) and its consumer (the classifier) run off the chat's
 * process, each in a process of its own; the chat's process sends, as the chat Lambda does.
 */
export async function benchChatClassification(): Promise<void> {
  const env = await benchEnvironment({ CLASSIFIER_DELAY_MS: "2000" });
  let consumer: TsProcess | undefined;
  try {
    consumer = await startTsProcess(path.join(import.meta.dirname, "classifier-process.ts"), ["bench-classification"]);
    const queueUrl = consumer.started.queueUrl;
    if (typeof queueUrl !== "string") throw new Error("the classifier process did not start");
    process.env.CLASSIFICATION_QUEUE_URL = queueUrl;
    const rt = await runtime();
    const live = rt.classificationQueue;
    const tenant = await createTenant(env.database.db, "bench");
    const chatUrl = `${env.url}/query/v1/projects/${tenant.projectId}/chat`;
    const post = async () => {
      const response = await fetch(chatUrl, {
        method: "POST",
        headers: { "X-API-KEY": tenant.apiKey, "content-type": "application/json" },
        body: JSON.stringify({ question: "How do I configure webhooks?" }),
      });
      if (response.status !== 200) throw new Error(`chat answered ${response.status}`);
      await response.arrayBuffer();
    };

    const results: Record<string, Awaited<ReturnType<typeof onAndOff>>> = {};
    const plans = [
      { llmDelayMs: 0, rounds: Number(process.env.BENCH_CC_ROUNDS_FAST ?? 1500), clients: 1 },
      // 100 rounds of 10: 1,000 requests per mode, so that p99 is ten samples, not two.
      { llmDelayMs: 1000, rounds: Number(process.env.BENCH_CC_ROUNDS_SLOW ?? 100), clients: 10 },
    ];
    for (const plan of plans) results[`llm_${plan.llmDelayMs}ms`] = await onAndOff(rt, live, post, plan);
    rt.classificationQueue = live;

    const rows = Object.entries(results).flatMap(([llm, r]) => [
      { llm, pipeline: "on", ...r.on },
      { llm, pipeline: "off", ...r.off },
      { llm, pipeline: "ratio on/off", ...ratio(r) },
    ]);
    const ratios = Object.fromEntries(Object.entries(results).map(([llm, r]) => [llm, ratio(r)]));
    await consumer.stop();
    const consumed = (await consumer.lines.next()).value;
    const slow = ratios.llm_1000ms;
    const fast = results.llm_0ms;
    const ms = (x: number) => Math.round(x * 1000) / 1000;
    report("chat-classification", rows, {
      unit: "ms",
      classifier_delay_ms: 2000,
      results,
      ratios_on_over_off: ratios,
      // At a 0 ms LLM the send is all there is to see: what it adds, without a ratio target.
      llm_0ms_added: fast
        ? {
            p50_ms: ms(fast.on.p50 - fast.off.p50),
            p99_ms: ms(fast.on.p99 - fast.off.p99),
            cpu_ms_per_request: ms(fast.cpu_ms_per_request.on - fast.cpu_ms_per_request.off),
          }
        : null,
      target_llm_1000ms: {
        p50_ratio_at_most: TARGET_AT_1S_LLM.p50,
        p99_ratio_at_most: TARGET_AT_1S_LLM.p99,
        met: Boolean(slow && slow.p50 <= TARGET_AT_1S_LLM.p50 && slow.p99 <= TARGET_AT_1S_LLM.p99),
      },
      classifier_during_run: consumed ? JSON.parse(consumed) : null,
    });
  } finally {
    await consumer?.stop();
    await env.close();
  }
}
