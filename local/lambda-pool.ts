import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FunctionBundles } from "./lambda-bundle.js";
import { lambdaWorkerLimits } from "./lambda-heap.js";

/**
 * Local Lambda functions: each function runs in execution environments of its own (worker
 * threads), each with its own module state (database pool, SDK clients) and **its own
 * environment variables**, those the template gives the function, as Lambda gives each function
 * its own, and the V8 heap limits Lambda gives its memory size (local/lambda-heap.ts).
 * Invocations go to the function's least busy environment; an environment runs several at once
 * (Lambda would start more environments; here a function has at most as many as cores, to use
 * them all without holding one heap per invocation).
 *
 * Each invocation has the function's timeout, counted from when the handler starts (a cold
 * start's module loading is the init phase, not counted, as in Lambda). One that runs longer
 * fails as in Lambda: the
 * caller gets the error `Sandbox.Timedout` ("Task timed out after N.00 seconds"), which is what
 * an event source mapping (the batch returns to the queue after its visibility timeout) and Step
 * Functions (the Task's error name) see; and the environment is discarded, as Lambda resets it.
 * https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html (Sandbox.Timedout)
 */
export interface LocalFunctionConfig {
  /** Its entry point, functions/<entry>.ts (run from its bundle). */
  entry: string;
  /** Exactly the variables its environment has (process.env of its environments). */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memorySize: number;
}

export interface LambdaPool {
  /** Runs one invocation of the function `name` (a key of the pool's functions). */
  invoke(name: string, event: unknown): Promise<unknown>;
  /** Invocations so far per function (tests, the banner). */
  invocations(name: string): number;
  /**
   * Retires every environment, as Lambda recycles them: the next invocation starts a fresh one,
   * and an invocation in flight finishes in its old environment, which then ends.
   */
  recycle(): Promise<void>;
  stop(): Promise<void>;
}

interface Environment {
  name: string;
  worker: Worker;
  busy: number;
  /** Timed out once: takes no more invocations and ends when its last one settles. */
  retired: boolean;
}

interface Reply {
  id: number;
  /** The handler starts now (its module is loaded): the timeout runs from here. */
  started?: true;
  ok?: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  env: Environment;
  timer?: NodeJS.Timeout;
  startTimer(): void;
}

/** The template sets NODE_OPTIONS=--enable-source-maps: stack traces name the TypeScript sources. */
const THREAD_FLAGS = new Set(["--enable-source-maps"]);
const threadFlags = (nodeOptions = "") => nodeOptions.split(/\s+/).filter((flag) => THREAD_FLAGS.has(flag));

const lambdaError = (name: string, message: string) => Object.assign(new Error(message), { name });

class LocalLambdaPool implements LambdaPool {
  private readonly environments = new Map<string, Environment[]>();
  private readonly pending = new Map<number, Pending>();
  private readonly counts = new Map<string, number>();
  private nextId = 0;

  constructor(
    private readonly functions: Readonly<Record<string, LocalFunctionConfig>>,
    private readonly code: FunctionBundles,
    private readonly size: number,
  ) {}

  invoke(name: string, event: unknown): Promise<unknown> {
    const config = this.functions[name];
    if (!config) return Promise.reject(lambdaError("ResourceNotFoundException", `Function not found: ${name}`));
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const env = this.leastBusy(name, config);
    const id = this.nextId++;
    const requestId = randomUUID();
    env.busy++;
    const timedOut = () => {
      // Lambda stops the invocation and resets the environment; the others it runs finish first here.
      env.retired = true;
      this.remove(env);
      const seconds = config.timeoutSeconds.toFixed(2);
      this.settle(id)?.reject(
        lambdaError("Sandbox.Timedout", `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`),
      );
    };
    return new Promise((resolve, reject) => {
      const call: Pending = {
        resolve,
        reject,
        env,
        startTimer: () => {
          call.timer = setTimeout(timedOut, config.timeoutSeconds * 1000);
        },
      };
      this.pending.set(id, call);
      env.worker.postMessage({ id, requestId, event, timeoutMs: config.timeoutSeconds * 1000 });
    });
  }

  invocations(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  async recycle(): Promise<void> {
    const retiring = [...this.environments.values()].flat();
    this.environments.clear();
    for (const env of retiring) env.retired = true;
    await Promise.all(retiring.filter((env) => env.busy === 0).map((env) => env.worker.terminate()));
  }

  stop(): Promise<void> {
    return this.endAll();
  }

  private settle(id: number): Pending | undefined {
    const call = this.pending.get(id);
    if (!call) return undefined;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.env.busy--;
    if (call.env.retired && call.env.busy === 0) void call.env.worker.terminate();
    return call;
  }

  private remove(env: Environment): void {
    const list = this.environments.get(env.name) ?? [];
    if (list.includes(env)) list.splice(list.indexOf(env), 1);
  }

  private start(name: string, config: LocalFunctionConfig): Environment {
    const worker = new Worker(this.code.worker, {
      env: config.environment,
      // Not this process's flags (a TypeScript loader): those of the function's NODE_OPTIONS that
      // a thread can take; the heap's are its resourceLimits.
      execArgv: threadFlags(config.environment.NODE_OPTIONS),
      workerData: { functionName: name, module: this.code.module(config.entry), memorySize: config.memorySize },
      resourceLimits: lambdaWorkerLimits(config.memorySize),
    });
    const env: Environment = { name, worker, busy: 0, retired: false };
    worker.on("message", (reply: Reply) => {
      if (reply.started) return this.pending.get(reply.id)?.startTimer();
      const call = this.settle(reply.id);
      if (!call) return;
      if (reply.ok) call.resolve(reply.result);
      else call.reject(lambdaError(reply.error?.name ?? "Error", reply.error?.message ?? ""));
    });
    worker.on("error", (error) => {
      this.remove(env);
      for (const [id, call] of this.pending) {
        if (call.env === env) this.settle(id)?.reject(lambdaError("Sandbox.ExitError", error.message));
      }
    });
    this.environments.set(name, [...(this.environments.get(name) ?? []), env]);
    return env;
  }

  private leastBusy(name: string, config: LocalFunctionConfig): Environment {
    const list = this.environments.get(name) ?? [];
    const idle = list.find((e) => e.busy === 0);
    if (idle) return idle;
    if (list.length < this.size) return this.start(name, config);
    return list.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private async endAll(): Promise<void> {
    const ending = [...this.environments.values()].flat();
    this.environments.clear();
    for (const [id, call] of this.pending) {
      if (ending.includes(call.env)) {
        this.settle(id)?.reject(lambdaError("Sandbox.ExitError", "The execution environment was shut down"));
      }
    }
    await Promise.all(ending.map((e) => e.worker.terminate()));
  }
}

export function startLambdaPool(
  functions: Readonly<Record<string, LocalFunctionConfig>>,
  code: FunctionBundles,
  options: { size?: number } = {},
): LambdaPool {
  return new LocalLambdaPool(functions, code, Math.max(1, options.size ?? availableParallelism()));
}
