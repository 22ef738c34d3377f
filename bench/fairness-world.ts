import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand, ListQueuesCommand, PurgeQueueCommand } from "@aws-sdk/client-sqs";
import postgres from "postgres";
import { useLocalAws } from "../local/sqs.js";
import { connect, type Database } from "../shared/db/client.js";
import { createSqsClient } from "../shared/platform/sqs-eager-client.js";
import { freshRuntimeEnv, type Started, startLocalRuntime } from "../test/support/processes.js";
import { type Stats, stats } from "./lib.js";

/**
 * The fairness benchmarks' world: `npm start` itself, as a child process, on a fresh database of
 * the real Postgres (created here, dropped after), and how to measure a quiet project while a
 * noisy one acts. `fairness-labels` uses it; the aggregate `fairness` bench runs its scenarios
 * beside the other fairness benchmarks'.
 */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface FairnessWorld {
  /** The gateway, as `npm start` printed it. */
  baseUrl: string;
  /** The world's SQS emulator. */
  sqsEndpoint: string;
  /** The world's database (creating tenants). */
  database: Database;
  /** The same database without the API's statement timeout, for seeding with SQL. */
  sql: postgres.Sql;
  /** Empties every queue of the world (between scenarios: a noisy backlog must not carry over). */
  purgeQueues(): Promise<void>;
  /** Messages waiting or in flight per queue (by name), DLQs left out. */
  queueDepths(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const printed = (output: string, pattern: RegExp, what: string) => {
  const found = pattern.exec(output)?.[1];
  if (!found) throw new Error(`npm start printed no ${what}:\n${output}`);
  return found;
};

/** `npm start` with `env` (CLASSIFIER_DELAY_MS and the like) on a database of its own. */
export async function startFairnessWorld(name: string, env: Record<string, string> = {}): Promise<FairnessWorld> {
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  const dbName = `kapa_${name.replace(/\W/g, "_")}_${process.pid}`;
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), `kapa-${name}-`));
  let runtime: Started | undefined;
  const cleanUp = async () => {
    await runtime?.stop("SIGINT");
    rmSync(dataDir, { recursive: true, force: true });
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  };
  try {
    runtime = await startLocalRuntime(
      {
        ...freshRuntimeEnv(dataDir),
        DATABASE_URL: url.href,
        LLM_DELAY_MS: "0",
        LOG_LEVEL: "warn",
        ...env,
      },
      /Press Ctrl-C to stop/,
      300_000,
    );
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const output = runtime.output();
  const baseUrl = printed(output, /kapa-service is running at (http:\/\/localhost:\d+)/, "gateway URL");
  const sqsEndpoint = printed(output, /SQS:\s+(http:\/\/[\d.:]+)/, "SQS endpoint");
  useLocalAws({});
  const database = connect({ url: url.href, max: 4 });
  const seeding = postgres(url.href, { max: 2, onnotice: () => {} });
  const sqs = createSqsClient({ endpoint: sqsEndpoint });
  return {
    baseUrl,
    sqsEndpoint,
    database,
    sql: seeding,
    async purgeQueues() {
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
      for (const QueueUrl of QueueUrls) await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    },
    async queueDepths() {
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
      const depths: Record<string, number> = {};
      for (const QueueUrl of QueueUrls.filter((url) => !/dlq/i.test(url))) {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
          }),
        );
        const depth =
          Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
        if (depth > 0) depths[QueueUrl.split("/").pop() as string] = depth;
      }
      return depths;
    },
    async stop() {
      sqs.destroy();
      await database.close();
      await seeding.end();
      await cleanUp();
    },
  };
}

/** A project's API as a client sees it: JSON in and out, with its key. */
export interface ProjectClient {
  projectId: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

export function projectClient(baseUrl: string, tenant: { projectId: string; apiKey: string }): ProjectClient {
  const root = `${baseUrl}/query/v1/projects/${tenant.projectId}`;
  return {
    projectId: tenant.projectId,
    async call(method, path, body) {
      const response = await fetch(`${root}${path}`, {
        method,
        headers: { "X-API-KEY": tenant.apiKey, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Statuses a client retries after a pause: throttled, or a dependency briefly unavailable. */
const RETRIED = new Set([429, 503]);
const MAX_CHAT_ATTEMPTS = 10;

/**
 * One sample of the quiet project's live label latency: a chat that starts a thread (retried on
 * 429 and 503, as a client would), then the thread read through the API until it has a label.
 * Milliseconds from the chat's answer to the label seen (at most `giveUpMs`: then `giveUpMs`,
 * counted as censored by the caller), and how many chat attempts were refused first.
 */
export async function liveLabelLatency(
  quiet: ProjectClient,
  giveUpMs: number,
  question: string,
): Promise<{ ms: number; refused: number }> {
  let chat = await quiet.call("POST", "/chat", { question });
  let refused = 0;
  while (RETRIED.has(chat.status) && refused < MAX_CHAT_ATTEMPTS) {
    refused++;
    await sleep(500);
    chat = await quiet.call("POST", "/chat", { question });
  }
  if (chat.status !== 200) throw new Error(`the quiet chat answered ${chat.status}: ${JSON.stringify(chat.body)}`);
  const answered = performance.now();
  const threadId = chat.body.thread_id as string;
  for (;;) {
    const waited = performance.now() - answered;
    if (waited >= giveUpMs) return { ms: giveUpMs, refused };
    const read = await quiet.call("GET", `/threads/${threadId}`);
    if (read.status === 200 && read.body.category) return { ms: performance.now() - answered, refused };
    await sleep(100);
  }
}

export interface QuietPlan {
  /** Samples per phase. */
  samples: number;
  /** A new quiet chat every this many ms (the samples overlap, as a real project's chats do). */
  spacingMs: number;
  giveUpMs: number;
}

export interface PhaseResult extends Stats {
  /** Samples that reached giveUpMs without a label. */
  censored: number;
  /** Quiet chats answered 429 or 503 before one was answered (retried after a pause). */
  chats_refused: number;
}

/** The quiet project's samples over one phase. */
export async function measureQuiet(quiet: ProjectClient, plan: QuietPlan, label: string): Promise<PhaseResult> {
  const runs: Promise<{ ms: number; refused: number }>[] = [];
  for (let i = 0; i < plan.samples; i++) {
    runs.push(liveLabelLatency(quiet, plan.giveUpMs, `${label} ${i}: how do I configure webhooks?`));
    await sleep(plan.spacingMs);
  }
  const samples = await Promise.all(runs);
  const latencies = samples.map((sample) => sample.ms);
  return {
    ...stats(latencies),
    censored: latencies.filter((ms) => ms >= plan.giveUpMs).length,
    chats_refused: samples.reduce((sum, sample) => sum + sample.refused, 0),
  };
}

/** A noisy project's action: started when the phase starts; `settled` ends with the action (the phase does not wait for it). */
export interface FairnessScenario {
  name: string;
  /** What the noisy project does; resolves to what the benchmark reports about it (statuses, counts). */
  noisy(): Promise<Record<string, unknown>>;
}

export interface ScenarioResult {
  scenario: string;
  quiet: PhaseResult;
  /** The deepest each queue got during the quiet samples (sampled every 2 s): the backlog the quiet project met. */
  deepest_queues: Record<string, number>;
  noisy: Record<string, unknown>;
}

/**
 * Each scenario in turn, from empty queues: the noisy action starts, the quiet project is
 * measured while it runs (the action is awaited after the quiet samples, for its report).
 */
export async function runScenarios(
  world: FairnessWorld,
  quiet: ProjectClient,
  scenarios: readonly FairnessScenario[],
  plan: QuietPlan,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    await world.purgeQueues();
    const started = performance.now();
    const noisy = scenario.noisy().then(
      (report) => ({ ...report, action_ms: Math.round(performance.now() - started) }),
      (error: unknown) => ({ error: String(error) }),
    );
    const deepest: Record<string, number> = {};
    let measuring = true;
    const sampling = (async () => {
      while (measuring) {
        for (const [queue, depth] of Object.entries(await world.queueDepths()))
          deepest[queue] = Math.max(deepest[queue] ?? 0, depth);
        await sleep(2000);
      }
    })();
    const measured = await measureQuiet(quiet, plan, scenario.name).finally(() => {
      measuring = false;
    });
    await sampling;
    results.push({ scenario: scenario.name, quiet: measured, deepest_queues: deepest, noisy: await noisy });
    process.stderr.write(`fairness: ${scenario.name} p50 ${measured.p50} p99 ${measured.p99}\n`);
  }
  return results;
}

/** A scenario's quiet p99 against the same project alone: at most `maxRatio` times and `maxMs`. */
export function judge(alone: PhaseResult, during: PhaseResult, target: { maxRatio: number; maxMs: number }) {
  const p50Ratio = Math.round((during.p50 / alone.p50) * 100) / 100;
  const p99Ratio = Math.round((during.p99 / alone.p99) * 100) / 100;
  return {
    p50_ratio: p50Ratio,
    p99_ratio: p99Ratio,
    met: during.censored === 0 && p99Ratio <= target.maxRatio && during.p99 <= target.maxMs,
  };
}
