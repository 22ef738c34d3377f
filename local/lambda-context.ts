import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

/** The Lambda context of one invocation: its function, memory, request id and deadline. */
export function lambdaContext(
  functionName: string,
  options: { memorySize?: number; requestId?: string; deadline?: number } = {},
): Context {
  const deadline = options.deadline ?? Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? "us-east-1"}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(options.memorySize ?? 1024),
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
