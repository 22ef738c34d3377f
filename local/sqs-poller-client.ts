import http from "node:http";
import https from "node:https";
import type {
  DeleteMessageBatchRequest,
  DeleteMessageBatchResult,
  ReceiveMessageRequest,
  ReceiveMessageResult,
} from "@aws-sdk/client-sqs";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { SQS_CONNECTION_TIMEOUT_MS, SQS_MAX_ATTEMPTS, SQS_REQUEST_TIMEOUT_MS } from "../shared/platform/sqs-sender.js";

/**
 * The local event source mapping's receives and deletes (local/event-source.ts), in SQS's JSON
 * protocol, signed with the SDK's own SigV4 signer and sent over a keep-alive agent. In AWS,
 * Lambda's pollers do this work off the function's CPU; locally the pollers share a process with
 * the functions, so they use this lean client rather than the SDK's middleware stack. Production
 * code sends through the SDK (shared/platform/sqs-sender.ts).
 *
 * Protocol: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-making-api-requests-json.html
 * Retries follow the SDK's standard mode: up to 3 attempts for throttling, 5xx and network
 * errors, with full-jitter exponential backoff from 100 ms.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export interface PollerClientOptions {
  /** @default AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, else https://sqs.<region>.amazonaws.com */
  endpoint?: string;
  /** @default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 */
  region?: string;
  /** @default the environment's (as in Lambda), else the SDK's default provider chain */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default SQS_MAX_ATTEMPTS */
  maxAttempts?: number;
  /** @default SQS_CONNECTION_TIMEOUT_MS */
  connectionTimeoutMs?: number;
  /** @default SQS_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

/** An error SQS answered (`name` is its error code, e.g. QueueDoesNotExist) or a transport failure. */
export class SqsCallError extends Error {
  override readonly name: string;
  constructor(
    code: string,
    message: string,
    readonly statusCode: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = code;
  }
}

const BASE_BACKOFF_MS = 100;
const MAX_SOCKETS = 50;
const THROTTLING = /Throttl|RequestThrottled|TooManyRequests|RequestLimitExceeded/;

type Action = "ReceiveMessage" | "DeleteMessageBatch";

function environmentCredentials(): AwsCredentialIdentity | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = process.env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: AWS_SESSION_TOKEN || undefined };
}

/** Outside Lambda without environment credentials (an operator's profile): the SDK's chain, loaded then. */
async function providerChain(): Promise<AwsCredentialIdentityProvider> {
  const { defaultProvider } = await import("@aws-sdk/credential-provider-node");
  return defaultProvider();
}

/** Where requests go and how they are signed: read from the environment at the first call, as the SDK does. */
interface Connection {
  endpoint: URL;
  agent: http.Agent;
  signer: Promise<SignatureV4>;
}

export class SqsPollerClient {
  private readonly maxAttempts: number;
  private readonly connectionTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private connection: Connection | undefined;

  constructor(private readonly options: PollerClientOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? SQS_MAX_ATTEMPTS;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? SQS_CONNECTION_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? SQS_REQUEST_TIMEOUT_MS;
  }

  receiveMessage(input: ReceiveMessageRequest): Promise<ReceiveMessageResult> {
    return this.call("ReceiveMessage", input, (input.WaitTimeSeconds ?? 0) * 1000);
  }

  deleteMessageBatch(input: DeleteMessageBatchRequest): Promise<DeleteMessageBatchResult> {
    return this.call("DeleteMessageBatch", input);
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.connection?.agent.destroy();
    this.connection = undefined;
  }

  private async call<T>(action: Action, input: object, waitMs = 0): Promise<T> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        return JSON.parse(await this.exchange(action, body, waitMs)) as T;
      } catch (error) {
        const retryable = !(error instanceof SqsCallError) || error.retryable;
        if (!retryable || attempt >= this.maxAttempts) throw error;
        const backoff = Math.random() * BASE_BACKOFF_MS * 2 ** (attempt - 1);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  private connect(): Connection {
    if (this.connection) return this.connection;
    const { options } = this;
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
    const endpoint = new URL(
      options.endpoint ??
        process.env.AWS_ENDPOINT_URL_SQS ??
        process.env.AWS_ENDPOINT_URL ??
        `https://sqs.${region}.amazonaws.com`,
    );
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS };
    const signer = (async () => {
      const credentials = options.credentials ?? environmentCredentials() ?? (await providerChain());
      return new SignatureV4({ service: "sqs", region, credentials, sha256: Hash.bind(null, "sha256") });
    })();
    // A failed credential lookup is retried by the next call.
    signer.catch(() => {
      if (this.connection?.signer === signer) this.connection = undefined;
    });
    this.connection = {
      endpoint,
      agent: endpoint.protocol === "https:" ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
      signer,
    };
    return this.connection;
  }

  /** One signed POST; resolves to the body of a 200, rejects with an SqsCallError otherwise. */
  private async exchange(action: Action, body: string, waitMs: number): Promise<string> {
    const { endpoint, agent, signer } = this.connect();
    const { hostname, port, host, protocol } = endpoint;
    const signed = await (await signer).sign({
      method: "POST",
      protocol,
      hostname,
      port: port ? Number(port) : undefined,
      path: "/",
      query: {},
      headers: {
        host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": `AmazonSQS.${action}`,
        "content-length": String(Buffer.byteLength(body)),
      },
      body,
    });
    return new Promise<string>((resolve, reject) => {
      const request = (protocol === "https:" ? https : http).request(
        { hostname, port, path: "/", method: "POST", headers: signed.headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = response.statusCode ?? 0;
            if (status === 200) resolve(text);
            else reject(answeredError(status, text));
          });
        },
      );
      const connectTimer = setTimeout(
        () =>
          request.destroy(transportError("ConnectionTimeout", `no connection within ${this.connectionTimeoutMs} ms`)),
        this.connectionTimeoutMs,
      );
      request.on("socket", (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once("connect", () => clearTimeout(connectTimer));
      });
      request.setTimeout(waitMs + this.requestTimeoutMs, () =>
        request.destroy(transportError("RequestTimeout", `no response within ${waitMs + this.requestTimeoutMs} ms`)),
      );
      request.on("error", (error) => {
        clearTimeout(connectTimer);
        reject(error instanceof SqsCallError ? error : transportError(errorCode(error), error.message));
      });
      request.on("close", () => clearTimeout(connectTimer));
      request.end(body);
    });
  }
}

const errorCode = (error: Error) => (error as NodeJS.ErrnoException).code ?? error.name;

/** Network failures are retried, as the SDK does (the consumers are idempotent). */
const transportError = (code: string, message: string) => new SqsCallError(code, message, undefined, true);

/** An error body of the JSON protocol: {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": ...}. */
function answeredError(status: number, text: string): SqsCallError {
  let type = "";
  let message = text;
  try {
    const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    type = parsed.__type ?? "";
    message = parsed.message ?? parsed.Message ?? text;
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  const code = type.split("#").pop() || `HTTP${status}`;
  return new SqsCallError(code, message, status, status >= 500 || status === 429 || THROTTLING.test(code));
}
