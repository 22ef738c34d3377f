import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARED_CACHE_DIR } from "../../local/template.js";
import { DEFAULT_BEDROCK_MODEL_ID } from "../../shared/classification/bedrock/model-id.js";
import { type ConverseStandIn, firstOffered, startConverseStandIn } from "../support/bedrock.js";
import { type LocalRuntime, useLocalRuntime } from "../support/processes.js";
import { eventually } from "../support/sqs.js";

/**
 * `CLASSIFIER_PROVIDER=bedrock npm start`: the setting becomes kapa:classifier of the local
 * synthesis, the template gives the classifier the bedrock provider, and the local world points it
 * at the stand-in of the Converse endpoint. A throttled first call sends the message back to the
 * queue, and the redelivery labels the thread.
 */
const local = useLocalRuntime(
  "bedrock",
  {
    CLASSIFIER_PROVIDER: "bedrock",
    LLM_DELAY_MS: "20",
    LOCAL_VISIBILITY_TIMEOUT_SECONDS: "2",
    TEMPLATE_CACHE_DIR: SHARED_CACHE_DIR,
  },
  "SIGINT",
);
let standIn: ConverseStandIn;
let runtime: LocalRuntime;

beforeAll(async () => {
  standIn = await startConverseStandIn();
  standIn.otherwise(firstOffered);
  runtime = await local.start({ timeoutMs: 150_000, env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: standIn.endpoint } });
}, 180_000);
afterAll(() => standIn?.close());

interface ThreadBody {
  id: string;
  category: { id: string; source: string; confidence?: number | null } | null;
}

describe("npm start with the bedrock provider", () => {
  it("labels a new thread through Converse, after SQS redelivered the throttled call's message", {
    timeout: 150_000,
  }, async () => {
    standIn.reply({ error: "ThrottlingException", status: 429 });
    const headers = { "X-API-KEY": runtime.apiKey, "content-type": "application/json" };
    const base = runtime.projectUrl.replace("localhost", "127.0.0.1");
    const chat = await fetch(`${base}/chat`, {
      method: "POST",
      headers,
      body: JSON.stringify({ question: "How do I rotate my API key?" }),
    });
    expect(chat.status).toBe(200);
    const { thread_id: threadId } = (await chat.json()) as { thread_id: string };
    const labelled = await eventually(
      async () => {
        const thread = (await (await fetch(`${base}/threads/${threadId}/`, { headers })).json()) as ThreadBody;
        return thread.category ? thread : undefined;
      },
      120_000,
      250,
    );
    const categories = (await (await fetch(`${base}/categories/`, { headers })).json()) as {
      results: { id: string }[];
    };
    const calls = standIn.calls.filter((c) => c.body.messages[0]?.content[0]?.text?.includes("rotate my API key"));
    expect(calls.length).toBeGreaterThanOrEqual(2); // the throttled call, then the redelivery's
    expect(calls.every((c) => c.modelId === DEFAULT_BEDROCK_MODEL_ID)).toBe(true);
    const offered = calls[0]?.body.toolConfig?.tools[0]?.toolSpec.inputSchema.json as {
      properties: { category_id: { enum: string[] } };
    };
    expect([...offered.properties.category_id.enum].sort()).toEqual(categories.results.map((c) => c.id).sort());
    expect(labelled.category).toMatchObject({ id: offered.properties.category_id.enum[0], source: "classifier" });
  });
});
