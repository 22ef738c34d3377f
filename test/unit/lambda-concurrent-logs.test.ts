import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const fixture = new URL("./fixtures/concurrent-invocations.ts", import.meta.url).pathname;

/** The fixture's JSON log lines, from a process of its own (nothing else set up the InvokeStore). */
async function logLines(): Promise<string[]> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", fixture], {
    env: { ...process.env, LOG_LEVEL: "info", LOG_FORMAT: "json" },
  });
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { message: string; invocation: string; function_request_id?: string })
    .map((l) => `${l.message} ${l.invocation} ${l.function_request_id}`);
}

describe("a local environment running invocations at once", () => {
  it("puts each invocation's own request id on its log lines", async () => {
    expect(await logLines()).toEqual([
      "started a request-a",
      "started b request-b",
      "finished a request-a",
      "finished b request-b",
    ]);
  });
});
