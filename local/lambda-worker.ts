import { parentPort, workerData } from "node:worker_threads";
import type { Context } from "aws-lambda";
import { lambdaContext } from "./lambda-context.js";
import { concurrentInvocations } from "./lambda-invocation.js";

/**
 * One local Lambda execution environment (a worker thread of local/lambda-pool.ts) of one
 * function: its process.env is the function's environment only. This module runs bundled
 * (local/lambda-bundle.ts); it imports the function's bundle on first use (the cold start) and
 * runs invocations of its handler with a Lambda context, each in its own invocation scope
 * (local/lambda-invocation.ts: it runs several at once), reporting each result or error (its name
 * is what Step Functions matches on) to the pool.
 */
interface Invocation {
  id: number;
  requestId: string;
  event: unknown;
  /** The function's timeout. */
  timeoutMs: number;
}

const { functionName, module, memorySize } = workerData as { functionName: string; module: string; memorySize: number };
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let handler: Promise<Handler> | undefined;
// Ready before the handler's modules load: Powertools needs the InvokeStore once the variable is set.
const scoped = concurrentInvocations();

parentPort?.on("message", async ({ id, requestId, event, timeoutMs }: Invocation) => {
  try {
    handler ??= scoped.then(() => import(module)).then((loaded: { handler: Handler }) => loaded.handler);
    const run = await handler;
    // The init phase (the cold start above) is not part of the function's timeout: it starts now.
    parentPort?.postMessage({ id, started: true });
    const context = lambdaContext(functionName, { memorySize, requestId, deadline: Date.now() + timeoutMs });
    const result = await (await scoped)(requestId, () => run(event, context));
    parentPort?.postMessage({ id, ok: true, result });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: "Error", message: String(error) };
    parentPort?.postMessage({ id, ok: false, error: { name, message } });
  }
});
