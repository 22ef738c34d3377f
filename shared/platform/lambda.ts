/**
 * How a Lambda function's failures look to the service that invoked it (Step Functions, an SQS
 * event source mapping), so that retry rules and the local runtime name them as AWS does.
 *
 * A function that runs past its timeout is stopped by Lambda and reported as `Sandbox.Timedout`
 * ("Lambda: Function times out ... (Sandbox.Timedout)",
 * https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html). Step Functions'
 * best-practice page still names unhandled Lambda errors, function timeouts included,
 * `Lambda.Unknown` (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html):
 * a retry rule lists both. `States.Timeout` is the Task state's own TimeoutSeconds, not the function's.
 */
export const LAMBDA_TIMEOUT_ERROR = "Sandbox.Timedout";
export const LAMBDA_TIMEOUT_ERRORS = [LAMBDA_TIMEOUT_ERROR, "Lambda.Unknown"] as const;

/**
 * Transient failures of the Lambda service itself (a 500 or 429 to Step Functions), same page:
 * retried with backoff. CDK's LambdaInvoke adds the first four on its own (retryOnServiceExceptions).
 */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/** The error a timed-out invocation rejects with, as Lambda reports it (the local runtimes throw it). */
export class LambdaTimeoutError extends Error {
  override name = LAMBDA_TIMEOUT_ERROR;
  constructor(timeoutMs: number) {
    super(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
  }
}
