import { request as httpRequest } from "node:http";
import { type Gateway, startGateway } from "../../local/gateway.js";
import { recordFetchResponse } from "./openapi-recorder.js";

export interface HttpReply {
  status: number;
  text: string;
  json: Record<string, unknown> | null;
  contentType: string | null;
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
}

/** A client for the local gateway started in this test process. */
export async function startTestGateway(): Promise<{ gateway: Gateway; call: typeof call }> {
  // No authorizer cache, so revocations and expiries show at once (API Gateway caches for its TTL).
  const gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
  const base = gateway.url.replace("localhost", "127.0.0.1");
  async function call(
    method: string,
    path: string,
    options: { key?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpReply> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.key !== undefined ? { "X-API-KEY": options.key } : {}),
        "content-type": "application/json",
        ...options.headers,
      },
      body: options.body,
    });
    await recordFetchResponse(method, `${base}${path}`, response);
    const text = await response.text();
    const contentType = response.headers.get("content-type");
    let json: Record<string, unknown> | null = null;
    if (contentType?.includes("json") && text) json = JSON.parse(text) as Record<string, unknown>;
    return { status: response.status, text, json, contentType, headers: Object.fromEntries(response.headers) };
  }
  return { gateway, call };
}

/** A request through node:http, which sends any method and the Host header as given (fetch replaces Host). */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | undefined; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body }));
    });
    req.on("error", reject);
    req.end();
  });
}
