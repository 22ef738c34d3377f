import { beforeAll, describe, expect, it } from "vitest";
import { stats } from "../../bench/lib.js";
import { SHARED_CACHE_DIR } from "../../local/template.js";
import { testDatabase } from "../support/database.js";
import { useLocalRuntime } from "../support/processes.js";
import { eventually } from "../support/sqs.js";

/**
 * Faults and load against `npm start` over HTTP: the classifier fails 20% of the time (each
 * failure is retried, five failures in a row go to the DLQ and the sweeper sends the thread
 * again), then 50 clients chat for LOAD_SECONDS (60). Every thread must end up labelled, with no
 * error, nothing lost and nothing written twice.
 */
const database = testDatabase();
const local = useLocalRuntime(
  "reliability",
  {
    // The run's real Postgres when there is one (faster under load); else npm start's own PGlite.
    DATABASE_URL: database.kind === "postgres" ? database.url : "",
    LLM_DELAY_MS: "200",
    CLASSIFIER_DELAY_MS: "100",
    CLASSIFIER_FAILURE_RATE: "0.2",
    CLASSIFIER_MAX_CONCURRENCY: "5",
    LOCAL_VISIBILITY_TIMEOUT_SECONDS: "3",
    LOCAL_RATE_SECONDS: "2",
    TEMPLATE_CACHE_DIR: SHARED_CACHE_DIR,
    SWEEPER_GRACE_SECONDS: "10",
    LOG_LEVEL: "silent",
    // 50 clients share one key here: the per-key usage plan (20 rps) and the stage's limit (100 rps,
    // the template's, as in AWS) would throttle them; this test is about errors, not throttling.
    PER_KEY_RATE_LIMIT: "0",
    API_THROTTLING_RATE_LIMIT: "10000",
    API_THROTTLING_BURST_LIMIT: "20000",
  },
  "SIGINT",
);
const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CLIENTS = 50;

let base: string;
let key: string;

beforeAll(async () => {
  const { baseUrl } = await local.start({ timeoutMs: 90_000 });
  const team = await local.kapa("team create --name Reliability");
  const project = await local.kapa(`project create --team ${team.id} --name 'Under load'`);
  key = (await local.kapa(`key create --project ${project.id} --name load`)).key as string;
  base = `${baseUrl.replace("localhost", "127.0.0.1")}/query/v1/projects/${project.id}`;
}, 120_000);

async function chat(question: string, threadId?: string): Promise<{ status: number; threadId?: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${base}/chat`, {
    method: "POST",
    headers: { "X-API-KEY": key, "content-type": "application/json" },
    body: JSON.stringify({ question, ...(threadId ? { thread_id: threadId } : {}) }),
  });
  const body = (await response.json()) as { thread_id?: string };
  return { status: response.status, threadId: body.thread_id, ms: performance.now() - started };
}

interface ThreadBody {
  id: string;
  total_questions: number;
  category: { source: string } | null;
}

async function allThreads(): Promise<ThreadBody[]> {
  const threads: ThreadBody[] = [];
  let next: string | null = `${base}/threads/?limit=1000`;
  while (next) {
    const page = (await (
      await fetch(next.replace("localhost", "127.0.0.1"), { headers: { "X-API-KEY": key } })
    ).json()) as {
      next: string | null;
      results: ThreadBody[];
    };
    threads.push(...page.results);
    next = page.next;
  }
  return threads;
}

function waitUntilAllLabelled(
  expected: number,
  timeoutMs: number,
): Promise<{ seconds: number; threads: ThreadBody[] }> {
  const started = performance.now();
  return eventually(
    async () => {
      const threads = await allThreads();
      if (threads.length !== expected || threads.some((t) => !t.category)) return undefined;
      return { seconds: Math.round((performance.now() - started) / 100) / 10, threads };
    },
    timeoutMs,
    500,
  );
}

describe("npm start under faults and load", () => {
  it("labels every thread although the classifier fails 20% of the time", { timeout: 180_000 }, async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => chat(`Question ${i}: how do I fix this error?`)),
    );
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const { seconds, threads } = await waitUntilAllLabelled(200, 150_000);
    expect(threads.every((t) => t.category?.source === "classifier")).toBe(true);
    process.stdout.write(
      `faults: 200 threads with a 20% classifier failure rate, all labelled ${seconds} s after the last chat\n`,
    );
  });

  it(`serves ${CLIENTS} concurrent clients for ${LOAD_SECONDS} s without an error, then labels every thread`, {
    timeout: LOAD_SECONDS * 1000 + 240_000,
  }, async () => {
    const before = (await allThreads()).length;
    const latencies: number[] = [];
    const errors: string[] = [];
    let questions = 0;
    const deadline = performance.now() + LOAD_SECONDS * 1000;
    const client = async (n: number) => {
      let threadId: string | undefined;
      for (let turn = 0; performance.now() < deadline; turn++) {
        // A conversation of four questions, then a new one.
        const reply = await chat(
          `Client ${n} turn ${turn}: how do I configure the SDK?`,
          turn % 4 === 0 ? undefined : threadId,
        );
        questions++;
        latencies.push(reply.ms);
        if (reply.status !== 200) errors.push(`status ${reply.status}`);
        threadId = reply.threadId ?? threadId;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    const threads = (await allThreads()).length - before;
    const { seconds } = await waitUntilAllLabelled(before + threads, 240_000);
    const figures = {
      clients: CLIENTS,
      seconds: LOAD_SECONDS,
      requests: questions,
      errors: errors.length,
      requests_per_second: Math.round(questions / LOAD_SECONDS),
      latency_ms: stats(latencies),
      new_threads: threads,
      all_labelled_seconds_after_load: seconds,
    };
    process.stdout.write(`load: ${JSON.stringify(figures)}\n`);
    expect(errors).toEqual([]);
    const total = (await allThreads()).reduce((sum, t) => sum + t.total_questions, 0);
    expect(total).toBe(questions + 200); // nothing lost, nothing stored twice
  });
});
