import { availableParallelism } from "node:os";
import { SHARE_ENV, Worker } from "node:worker_threads";

/**
 * Local Lambda execution environments: worker threads that run handlers of functions/, each with
 * its own module state (database pool, SDK clients), as Lambda gives each environment its own.
 * Invocations go to the least busy environment; an environment runs several at once (Lambda
 * would start more environments; here there are at most as many as cores, to use them all
 * without holding one heap per invocation). The environment variables are the process's, live.
 */
export interface LambdaPool {
  invoke(entry: string, event: unknown): Promise<unknown>;
  /** Ends every environment (the next invocation starts a fresh one), as Lambda recycles them. */
  recycle(): Promise<void>;
  stop(): Promise<void>;
}

interface Environment {
  worker: Worker;
  busy: number;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

export function startLambdaPool(options: { size?: number } = {}): LambdaPool {
  const size = Math.max(1, options.size ?? availableParallelism());
  const environments: Environment[] = [];
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; env: Environment }>();
  let nextId = 0;

  function start(): Environment {
    const worker = new Worker(new URL("./lambda-worker.mjs", import.meta.url), { env: SHARE_ENV });
    const env: Environment = { worker, busy: 0 };
    worker.on("message", (reply: Reply) => {
      const call = pending.get(reply.id);
      if (!call) return;
      pending.delete(reply.id);
      env.busy--;
      if (reply.ok) call.resolve(reply.result);
      else call.reject(Object.assign(new Error(reply.error?.message), { name: reply.error?.name ?? "Error" }));
    });
    worker.on("error", (error) => {
      for (const [id, call] of pending) {
        if (call.env !== env) continue;
        pending.delete(id);
        call.reject(Object.assign(new Error(error.message), { name: "Sandbox.ExitError" }));
      }
      environments.splice(environments.indexOf(env), 1);
    });
    environments.push(env);
    return env;
  }

  function leastBusy(): Environment {
    const idle = environments.find((e) => e.busy === 0);
    if (idle) return idle;
    if (environments.length < size) return start();
    return environments.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  async function endAll(): Promise<void> {
    const ending = environments.splice(0);
    for (const [id, call] of pending) {
      if (!ending.includes(call.env)) continue;
      pending.delete(id);
      call.reject(Object.assign(new Error("The execution environment was shut down"), { name: "Sandbox.ExitError" }));
    }
    await Promise.all(ending.map((e) => e.worker.terminate()));
  }

  return {
    invoke(entry, event) {
      const env = leastBusy();
      const id = nextId++;
      env.busy++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, env });
        env.worker.postMessage({ id, entry, event });
      });
    },
    recycle: endAll,
    stop: endAll,
  };
}
