import type {
  BedrockRuntimeClient,
  BedrockRuntimeClientConfig,
  ConverseCommandOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { named } from "../../platform/errors.js";
import { putMetric } from "../../platform/metrics.js";
import { type Classifier, NoCategoriesError } from "../classifier.js";
import { parseAnswer } from "./answer.js";
import { bedrockModelRef } from "./model-id.js";
import { converseRequest } from "./prompt.js";

const CONNECTION_TIMEOUT_MS = 3000;
/** Sockets kept alive per process: a batch of ten is classified in parallel. */
const MAX_SOCKETS = 10;

/** Bedrock refused the call for now (throttling, overload, a model warming up): SQS delivers the message again. */
export class BedrockUnavailableError extends named("BedrockUnavailableError", Error) {}
/** No answer within the call's time budget: SQS delivers the message again. */
export class BedrockTimeoutError extends named("BedrockTimeoutError", Error) {}
/** Any other refusal (access denied, unknown model, a bad request): a setup problem, retried then dead-lettered. */
export class BedrockRequestError extends named("BedrockRequestError", Error) {}

export interface BedrockClassifierOptions {
  /** A foundation model id or an inference profile id (model-id.ts). */
  modelId: string;
  /**
   * One Converse call may take this long, connecting included (CLASSIFIER_TIMEOUT_MS). A batch's
   * calls run in parallel: well under the function's timeout, the function reports the batch's
   * failures itself rather than timing out as a whole.
   */
  timeoutMs: number;
  /** Extra client settings: an endpoint (tests, a stand-in), credentials, a region. */
  client?: BedrockRuntimeClientConfig;
}

const TRANSIENT = new Set([
  "ThrottlingException",
  "ServiceUnavailableException",
  "ModelNotReadyException",
  "ModelTimeoutException",
  "InternalServerException",
]);

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The SDK's failure as one of ours, each saying what happens to the message. */
function providerError(error: unknown, modelId: string, timeoutMs: number): Error {
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const what = `${e.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? String(error)}`;
  if (e.name === "AbortError" || e.name === "TimeoutError") {
    return new BedrockTimeoutError(`Bedrock (${modelId}) did not answer within ${timeoutMs} ms`, { cause: error });
  }
  if (TRANSIENT.has(e.name ?? "") || status === 429 || (status !== undefined && status >= 500)) {
    return new BedrockUnavailableError(`Bedrock (${modelId}) is unavailable, the message will be retried: ${what}`, {
      cause: error,
    });
  }
  return new BedrockRequestError(`Bedrock (${modelId}) refused the request: ${what}`, { cause: error });
}

const errorKind = (error: Error) =>
  error instanceof BedrockTimeoutError
    ? "timeout"
    : error instanceof BedrockUnavailableError
      ? "unavailable"
      : "refused";

type BedrockModule = typeof import("@aws-sdk/client-bedrock-runtime");

/**
 * The `bedrock` provider: one Converse call per question (prompt.ts), the answer read from the
 * forced tool call and checked against the categories offered (answer.ts). Every failure throws,
 * so the message fails and SQS delivers it again: the SDK does not retry (maxAttempts 1), since
 * the queue's visibility timeout is a gentler backoff for a throttled model than immediate retries
 * of a whole batch. The SDK is imported at the first classification, never at a function's init.
 */
export function bedrockClassifier(options: BedrockClassifierOptions): Classifier {
  const model = bedrockModelRef(options.modelId);
  const { timeoutMs } = options;
  let loading: Promise<{ client: BedrockRuntimeClient; module: BedrockModule }> | undefined;
  const connect = () => {
    loading ??= Promise.all([import("@aws-sdk/client-bedrock-runtime"), import("@smithy/node-http-handler")]).then(
      ([module, { NodeHttpHandler }]) => {
        // HTTP/1.1 with kept-alive sockets rather than the client's default HTTP/2 session, which
        // arms no request timeout of its own and has failed behind proxies and after idle periods.
        const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
        const requestHandler = new NodeHttpHandler({
          connectionTimeout: CONNECTION_TIMEOUT_MS,
          requestTimeout: timeoutMs,
          throwOnRequestTimeout: true,
          httpAgent: agent,
          httpsAgent: agent,
        });
        const client = new module.BedrockRuntimeClient({ maxAttempts: 1, requestHandler, ...options.client });
        return { client, module };
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  const dimensions = { Model: model.id };

  return {
    async classify(question, categories, examples) {
      if (categories.length === 0) throw new NoCategoriesError();
      const { client, module } = await connect();
      const request = converseRequest(model.id, question, categories, examples);
      let output: ConverseCommandOutput;
      try {
        output = await client.send(new module.ConverseCommand(request), {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const failure = providerError(error, model.id, timeoutMs);
        putMetric("ClassifierProviderErrors", 1, "Count", { ...dimensions, Kind: errorKind(failure) });
        throw failure;
      }
      // Tokens are billed whether or not the answer is usable: counted before it is checked.
      putMetric("ClassifierInputTokens", output.usage?.inputTokens ?? 0, "Count", dimensions);
      putMetric("ClassifierOutputTokens", output.usage?.outputTokens ?? 0, "Count", dimensions);
      try {
        return parseAnswer(output, categories);
      } catch (error) {
        putMetric("ClassifierProviderErrors", 1, "Count", { ...dimensions, Kind: "malformed" });
        throw error;
      }
    },
  };
}
