import { InvokeStore, InvokeStoreBase } from "@aws/lambda-invoke-store";

/**
 * Lambda's value says how many invocations one environment runs at once; the local pool sends an
 * environment any number (local/lambda-pool.ts). Only its presence matters to the libraries that
 * read it (Powertools, the InvokeStore).
 */
const LOCAL_MAX_CONCURRENCY = "1000";

export type InvocationScope = <R>(requestId: string, invoke: () => Promise<R>) => Promise<R>;

/**
 * What Lambda's runtime does in an environment that runs several invocations at once (Lambda
 * Managed Instances), as a local environment does: AWS_LAMBDA_MAX_CONCURRENCY is set, and each
 * invocation runs in the InvokeStore's async context with its request id. Powertools keeps what an
 * invocation gives the logger there (its Lambda context from `addContext`, temporary keys), so
 * one invocation's request id never lands on another's log lines
 * (aws-powertools/powertools-lambda-typescript#5429).
 */
export async function concurrentInvocations(): Promise<InvocationScope> {
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= LOCAL_MAX_CONCURRENCY;
  const store = await InvokeStore.getInstanceAsync(true);
  return (requestId, invoke) => store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: requestId }, invoke);
}
