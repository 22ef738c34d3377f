import { AnalyticsRepository, type AnalyticsStore } from "../analytics/repository.js";
import { type Executions, noExecutions, sfnExecutions } from "../backfill/executions.js";
import { BackfillRepository, type BackfillStore } from "../backfill/repository.js";
import { CategoriesRepository, type CategoriesStore } from "../categories/repository.js";
import type { Classifier } from "../classification/classifier.js";
import { classifierFor } from "../classification/providers.js";
import { type ClassificationQueue, SqsClassificationQueue } from "../classification/queue.js";
import { LabelsRepository, type LabelsStore } from "../classification/repository.js";
import { connect, type Database } from "../db/client.js";
import { resolveDatabaseTarget } from "../db/target.js";
import { type Env, loadEnv } from "../platform/config.js";
import { LazySqsClient } from "../platform/sqs-sender.js";
import { RagAgent } from "../rag/agent.js";
import { DummyLlmClient } from "../rag/llm.js";
import { KeywordRetriever } from "../rag/retriever.js";
import { ThreadsRepository, type ThreadsStore } from "../threads/repository.js";

/** What a handler needs, created once per process (a Lambda cold start) and reused. */
export interface Runtime {
  env: Env;
  database: Database;
  /** The SQS client of every queue this process sends to. */
  sqs: LazySqsClient;
  threads: ThreadsStore;
  labels: LabelsStore;
  categories: CategoriesStore;
  /** Category trends over time (the thread_rollups table). */
  analytics: AnalyticsStore;
  agent: RagAgent;
  classifier: Classifier;
  /** The live classification queue; a stand-in that refuses every send when none is configured. */
  classificationQueue: ClassificationQueue;
  /** The backfill's thread-id walks and progress counts. */
  backfill: BackfillStore;
  /** The backfill queue (EnqueueRange); a refusing stand-in when BACKFILL_QUEUE_URL is not set. */
  backfillQueue: ClassificationQueue;
  /** The backfill state machine's executions (reclassify jobs); a stand-in without BACKFILL_STATE_MACHINE_ARN. */
  backfillExecutions: Executions;
}

const noQueue = (variable: string): ClassificationQueue => ({
  send: async () => {
    throw new Error(`${variable} is not set`);
  },
});

let current: Promise<Runtime> | undefined;

export async function createRuntime(env: Env = loadEnv()): Promise<Runtime> {
  const database = connect(await resolveDatabaseTarget(env));
  // One SQS client (one pool of kept-alive sockets) per process; AWS_ENDPOINT_URL_SQS points it at the local emulator.
  const sqs = new LazySqsClient();
  return {
    env,
    database,
    sqs,
    threads: new ThreadsRepository(database.db),
    labels: new LabelsRepository(database.db),
    categories: new CategoriesRepository(database.db),
    analytics: new AnalyticsRepository(database.db),
    agent: new RagAgent(new KeywordRetriever(), new DummyLlmClient(env.LLM_DELAY_MS)),
    classifier: classifierFor(env),
    classificationQueue: env.CLASSIFICATION_QUEUE_URL
      ? new SqsClassificationQueue(sqs, env.CLASSIFICATION_QUEUE_URL)
      : noQueue("CLASSIFICATION_QUEUE_URL"),
    backfill: new BackfillRepository(database.db),
    backfillQueue: env.BACKFILL_QUEUE_URL
      ? new SqsClassificationQueue(sqs, env.BACKFILL_QUEUE_URL)
      : noQueue("BACKFILL_QUEUE_URL"),
    backfillExecutions: env.BACKFILL_STATE_MACHINE_ARN ? sfnExecutions(env.BACKFILL_STATE_MACHINE_ARN) : noExecutions,
  };
}

export function runtime(): Promise<Runtime> {
  current ??= createRuntime().catch((error: unknown) => {
    current = undefined; // a failed cold start (say, the secret was unreachable) is retried next call
    throw error;
  });
  return current;
}

/** Closes the shared runtime (local runtime shutdown, tests). */
export async function closeRuntime(): Promise<void> {
  const pending = current;
  current = undefined;
  if (!pending) return;
  const closing = await pending;
  closing.sqs.destroy();
  await closing.database.close();
}

/**
 * A handler's own part of the runtime (its settings, its clients), built on the shared runtime at
 * the handler's first invocation, never when its module is imported: the environment is read then,
 * as for every other handler, so the local runtime may set it after importing the handler. Built
 * again when the shared runtime is (after closeRuntime, or a failed cold start).
 */
export function handlerRuntime<T>(build: (shared: Runtime) => T | Promise<T>): () => Promise<T> {
  let built: { shared: Promise<Runtime>; part: Promise<T> } | undefined;
  return () => {
    const shared = runtime();
    if (built?.shared !== shared) {
      const part = shared.then(build);
      built = { shared, part };
      part.catch(() => {
        if (built?.part === part) built = undefined;
      });
    }
    return built.part;
  };
}
