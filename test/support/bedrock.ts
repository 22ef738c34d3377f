import http from "node:http";
import type { AddressInfo } from "node:net";
import type { BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";

/**
 * A stand-in for the Bedrock runtime's Converse endpoint (a service we do not run), on loopback
 * over HTTP/1.1 (as the provider's client speaks it): it answers POST /model/{modelId}/converse as Bedrock does (JSON body, errors named by the
 * x-amzn-ErrorType header), with the reply the test queued, and records each request.
 */

/** What the stand-in answers the next request with. */
export type ConverseReply =
  /** A call of the label tool with this input. */
  | { label: Record<string, unknown> }
  /** An assistant message of text only (no tool call). */
  | { text: string }
  /** An error as Bedrock sends it. */
  | { error: string; status: number }
  /** Never answers. */
  | "hang";

export interface ConverseCall {
  modelId: string;
  body: {
    system?: { text: string }[];
    messages: { role: string; content: { text?: string }[] }[];
    inferenceConfig?: { maxTokens?: number; temperature?: number };
    toolConfig?: {
      tools: { toolSpec: { name: string; inputSchema: { json: Record<string, unknown> } } }[];
      toolChoice?: { tool?: { name: string } };
    };
  };
  /** SigV4: the request was signed. */
  authorization: string | undefined;
}

/** The first category offered (the label tool's enum), as a model that always picks it would. */
export function firstOffered(call: ConverseCall): ConverseReply {
  const schema = call.body.toolConfig?.tools[0]?.toolSpec.inputSchema.json as
    | { properties?: { category_id?: { enum?: string[] } } }
    | undefined;
  const id = schema?.properties?.category_id?.enum?.[0];
  return { label: { category_id: id, confidence: 0.9, rationale: "The stand-in picks the first category." } };
}

export const STAND_IN_USAGE = { inputTokens: 412, outputTokens: 37, totalTokens: 449 };

function respond(res: http.ServerResponse, reply: Exclude<ConverseReply, "hang">): void {
  if ("error" in reply) {
    res
      .writeHead(reply.status, { "content-type": "application/json", "x-amzn-errortype": reply.error })
      .end(JSON.stringify({ message: `${reply.error} (stand-in)` }));
    return;
  }
  const content =
    "label" in reply
      ? [{ toolUse: { toolUseId: "tooluse_1", name: "label", input: reply.label } }]
      : [{ text: reply.text }];
  res.writeHead(200, { "content-type": "application/json" }).end(
    JSON.stringify({
      output: { message: { role: "assistant", content } },
      stopReason: "label" in reply ? "tool_use" : "end_turn",
      usage: STAND_IN_USAGE,
      metrics: { latencyMs: 1 },
    }),
  );
}

export async function startConverseStandIn() {
  const replies: ConverseReply[] = [];
  let otherwise: (call: ConverseCall) => ConverseReply = () => ({ error: "ValidationException", status: 400 });
  const calls: ConverseCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = /^\/model\/([^/]+)\/converse$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match?.[1]) {
        res.writeHead(404, { "x-amzn-errortype": "UnknownOperationException" }).end("{}");
        return;
      }
      const call: ConverseCall = {
        modelId: decodeURIComponent(match[1]),
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ConverseCall["body"],
        authorization: req.headers.authorization,
      };
      calls.push(call);
      const reply = replies.shift() ?? otherwise(call);
      if (reply !== "hang") respond(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    calls,
    /** Queues the replies of the next requests, in order. */
    reply: (...next: ConverseReply[]) => replies.push(...next),
    /** How requests are answered when no reply is queued (by default, a ValidationException). */
    otherwise: (answer: (call: ConverseCall) => ConverseReply) => {
      otherwise = answer;
    },
    /** The SDK client settings that point at the stand-in, with static credentials. */
    clientConfig: (): BedrockRuntimeClientConfig => ({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "stand-in", secretAccessKey: "stand-in" },
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type ConverseStandIn = Awaited<ReturnType<typeof startConverseStandIn>>;
