import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { Webhook } from "standardwebhooks";
import { DELIVERY_TIMEOUT_MS, type DeliveryMessage, deliveryBody, MAX_RESPONSE_BYTES } from "./model.js";
import { type CheckedUrl, checkWebhookUrl, type HostResolver, type UrlPolicy, UrlRefusedError } from "./url-policy.js";

export interface PostOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface PostOptions {
  policy: UrlPolicy;
  resolve?: HostResolver;
  timeoutMs?: number;
  now?: () => Date;
}

/** The Standard Webhooks headers, signed by the `standardwebhooks` package with every active secret. */
export function signedHeaders(
  message: Pick<DeliveryMessage, "eventId">,
  secrets: readonly string[],
  body: string,
  at: Date,
): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(message.eventId, at, body));
  return {
    "webhook-id": message.eventId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signatures.join(" "),
  };
}

/** A lookup that answers the address already checked: the connection goes where the check looked. */
function pinned(target: CheckedUrl["target"]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

function request(checked: CheckedUrl, headers: Record<string, string>, body: string, timeoutMs: number) {
  return new Promise<number>((resolve, reject) => {
    const client = checked.url.protocol === "https:" ? https : http;
    const req = client.request(checked.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "kapa-webhooks/1" },
      lookup: pinned(checked.target),
      agent: false,
    });
    // The whole exchange, connection to answer, is cut at the deadline.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (response) => {
      let read = 0;
      const done = () => {
        clearTimeout(timer);
        resolve(response.statusCode ?? 0);
      };
      // Only the first bytes of the answer are read; then the connection is dropped.
      response.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_RESPONSE_BYTES) {
          done();
          response.destroy();
        }
      });
      response.on("end", done);
      response.on("error", () => done());
    });
    req.end(body);
  });
}

/**
 * One delivery attempt: the URL is checked again (DNS may have changed since creation), then
 * POSTed to the checked address with a deadline; redirects are not followed (a 3xx is a failure).
 */
export async function postDelivery(
  message: DeliveryMessage,
  secrets: readonly string[],
  options: PostOptions,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let checked: CheckedUrl;
  try {
    checked = await checkWebhookUrl(message.url, options.policy, options.resolve);
  } catch (error) {
    const reason = error instanceof UrlRefusedError ? error.message : String(error);
    return { statusCode: null, error: `refused: ${reason}`, durationMs: elapsed() };
  }
  const body = deliveryBody(message);
  const headers = signedHeaders(message, secrets, body, (options.now ?? (() => new Date()))());
  try {
    const status = await request(checked, headers, body, options.timeoutMs ?? DELIVERY_TIMEOUT_MS);
    const error = status >= 300 && status < 400 ? `redirect not followed (HTTP ${status})` : null;
    return { statusCode: status, error, durationMs: elapsed() };
  } catch (error) {
    return { statusCode: null, error: error instanceof Error ? error.message : String(error), durationMs: elapsed() };
  }
}

export const isSuccess = (outcome: PostOutcome) =>
  outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
