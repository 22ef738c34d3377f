import type { Context } from "aws-lambda";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";

// Lambda sets it in an on-demand execution environment; Powertools reports no cold start without it.
vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
vi.resetModules(); // the setup files loaded the logger before the variable was set
const { logger, withLambdaContext } = await import("../../shared/platform/logger.js");

const context = {
  functionName: "kapa-chat",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:kapa-chat",
  memoryLimitInMB: "1024",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
} as Partial<Context> as Context;

/** The JSON lines Powertools writes to stdout while `fn` runs, at LOG_LEVEL=info. */
async function logLines(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const level = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = "info";
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await fn();
  } finally {
    write.mockRestore();
    process.env.LOG_LEVEL = level;
  }
  return lines
    .flatMap((l) => l.split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => vi.unstubAllEnvs());

describe("withLambdaContext", () => {
  it("puts cold_start and the function's fields on every log line of the invocation, cold only once", async () => {
    const handler = withLambdaContext(async (event: { n: number }) => {
      logger.info("handled", { n: event.n });
      return event.n;
    });

    const first = await logLines(() => handler({ n: 1 }, context));
    const second = await logLines(() => handler({ n: 2 }, context));

    expect(first).toEqual([
      expect.objectContaining({
        message: "handled",
        n: 1,
        cold_start: true,
        function_name: "kapa-chat",
        function_request_id: context.awsRequestId,
      }),
    ]);
    expect(second).toEqual([expect.objectContaining({ message: "handled", n: 2, cold_start: false })]);
  });

  it("passes the event through and returns the handler's answer, without a context too", async () => {
    const handler = withLambdaContext(async (event: string) => event.toUpperCase());
    expect(await handler("ok")).toBe("OK");
  });
});
