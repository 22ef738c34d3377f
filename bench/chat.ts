import { createTenant } from "../shared/admin/tenants.js";
import { benchEnvironment, report, stats, timeIt } from "./lib.js";

/**
 * Chat request overhead: everything but the LLM (LLM_DELAY_MS=0), over HTTP through the local
 * gateway (authorizer cached, as API Gateway does) against local Postgres, one request at a time.
 */
export async function benchChat(requests = Number(process.env.BENCH_CHAT_REQUESTS ?? 1000)): Promise<void> {
  const env = await benchEnvironment({ LLM_DELAY_MS: "0" });
  try {
    const tenant = await createTenant(env.database.db, "bench");
    const chatUrl = `${env.url}/query/v1/projects/${tenant.projectId}/chat`;
    const post = async (body: unknown) => {
      const response = await fetch(chatUrl, {
        method: "POST",
        headers: { "X-API-KEY": tenant.apiKey, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (response.status !== 200) throw new Error(`chat answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { thread_id: string };
    };
    const { thread_id } = await post({ question: "warm-up" });
    for (let i = 0; i < 100; i++) await post({ question: `warm-up ${i}`, thread_id });

    const newThread: number[] = [];
    const followUp: number[] = [];
    for (let i = 0; i < requests; i++) {
      newThread.push(await timeIt(() => post({ question: `How do I configure webhooks, take ${i}?` })));
      followUp.push(await timeIt(() => post({ question: `And what about retries, take ${i}?`, thread_id })));
    }
    const rows = [
      { request: "new thread", ...stats(newThread) },
      { request: "follow-up", ...stats(followUp) },
    ];
    const followUpStats = stats(followUp);
    report("chat", rows, {
      llm_delay_ms: 0,
      unit: "ms",
      new_thread: stats(newThread),
      follow_up: followUpStats,
      target: { follow_up_p50_ms_below: 5, met: followUpStats.p50 < 5 },
    });
  } finally {
    await env.close();
  }
}
