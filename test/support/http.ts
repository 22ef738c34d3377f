import { type Gateway, startGateway } from "../../local/gateway.js";
import { recordFetchResponse } from "./openapi-recorder.js";

export interface HttpReply {
  status: number;
  text: string;
  json: Record<string, unknown> | null;
  contentType: string | null;
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
    return { status: response.status, text, json, contentType };
  }
  return { gateway, call };
}
