import { parentPort } from "node:worker_threads";

/**
 * One local Lambda execution environment (a worker thread of local/lambda-pool.ts): imports
 * `functions/<entry>.ts` on first use and runs invocations of its handler, reporting each result
 * or error (its name is what Step Functions matches on) to the pool.
 */
interface Invocation {
  id: number;
  entry: string;
  event: unknown;
}

type Handler = (event: unknown) => Promise<unknown>;
const handlers = new Map<string, Promise<Handler>>();

function handlerOf(entry: string): Promise<Handler> {
  let handler = handlers.get(entry);
  if (!handler) {
    handler = import(`../functions/${entry}.ts`).then((module: { handler: Handler }) => module.handler);
    handlers.set(entry, handler);
  }
  return handler;
}

parentPort?.on("message", async ({ id, entry, event }: Invocation) => {
  try {
    const result = await (await handlerOf(entry))(event);
    parentPort?.postMessage({ id, ok: true, result });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: "Error", message: String(error) };
    parentPort?.postMessage({ id, ok: false, error: { name, message } });
  }
});
