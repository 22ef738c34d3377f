import { type Env, loadEnv } from "./config.js";
import { connect, type Database } from "./db/client.js";
import { resolveDatabaseTarget } from "./db/target.js";
import { RagAgent } from "./rag/agent.js";
import { DummyLlmClient } from "./rag/llm.js";
import { KeywordRetriever } from "./rag/retriever.js";
import { ThreadsRepository } from "./threads/repository.js";

/** What a handler needs, created once per process (a Lambda cold start) and reused. */
export interface Runtime {
  env: Env;
  database: Database;
  threads: ThreadsRepository;
  agent: RagAgent;
}

let current: Promise<Runtime> | undefined;

export async function createRuntime(env: Env = loadEnv()): Promise<Runtime> {
  const database = connect(await resolveDatabaseTarget(env));
  return {
    env,
    database,
    threads: new ThreadsRepository(database.db),
    agent: new RagAgent(new KeywordRetriever(), new DummyLlmClient(env.LLM_DELAY_MS)),
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
  if (pending) await (await pending).database.close();
}
