import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MalformedAnswerError } from "../../shared/classification/bedrock/answer.js";
import {
  BedrockRequestError,
  BedrockTimeoutError,
  BedrockUnavailableError,
  bedrockClassifier,
} from "../../shared/classification/bedrock/classifier.js";
import { bedrockModelRef } from "../../shared/classification/bedrock/model-id.js";
import {
  EXAMPLES_PER_CATEGORY,
  MAX_OUTPUT_TOKENS,
  nearestExamples,
} from "../../shared/classification/bedrock/prompt.js";
import type { LabelExample } from "../../shared/classification/classifier.js";
import { type ConverseStandIn, STAND_IN_USAGE, startConverseStandIn } from "../support/bedrock.js";

const MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const categories = [
  { id: "c-billing", name: "Billing", description: "Invoices, plans, refunds and payment methods" },
  { id: "c-errors", name: "Troubleshooting", description: "Something fails: errors, crashes, timeouts" },
  { id: "c-howto", name: "Discovery", description: "How to do something with the product" },
];
const examples: LabelExample[] = [
  { categoryId: "c-billing", question: "Why was my credit card charged twice this month?" },
  { categoryId: "c-billing", question: "Can I get an invoice for the annual plan?" },
  { categoryId: "c-errors", question: "The deploy fails with a timeout error" },
  { categoryId: "c-howto", question: "How do I invite a teammate?" },
];
const good = { category_id: "c-billing", confidence: 0.82, rationale: "The user asks about a card charge." };

let standIn: ConverseStandIn;
beforeAll(async () => {
  standIn = await startConverseStandIn();
});
afterAll(() => standIn.close());

const classifier = (timeoutMs = 10_000) =>
  bedrockClassifier({ modelId: MODEL, timeoutMs, client: standIn.clientConfig() });

describe("the bedrock provider against a stand-in of the Converse endpoint", () => {
  it("asks for the label through one forced tool call, bounded and deterministic, and returns it", async () => {
    standIn.reply({ label: good });
    const before = standIn.calls.length;
    const label = await classifier().classify("My card was charged twice", categories, examples);
    expect(label).toEqual({ categoryId: "c-billing", confidence: 0.82, rationale: good.rationale });

    const call = standIn.calls[before];
    expect(call?.modelId).toBe(MODEL);
    expect(call?.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(call?.body.inferenceConfig).toEqual({ maxTokens: MAX_OUTPUT_TOKENS, temperature: 0 });
    expect(call?.body.toolConfig?.toolChoice).toEqual({ tool: { name: "label" } });
    const schema = call?.body.toolConfig?.tools[0]?.toolSpec.inputSchema.json as {
      properties: { category_id: { enum: string[] }; confidence: { minimum: number; maximum: number } };
    };
    expect(schema.properties.category_id.enum).toEqual(categories.map((c) => c.id));
    expect(schema.properties.confidence).toMatchObject({ minimum: 0, maximum: 1 });
    const prompt = call?.body.messages[0]?.content[0]?.text ?? "";
    for (const c of categories) expect(prompt).toContain(c.description);
    // The nearest examples go with the question; those sharing no word with it do not.
    expect(prompt).toContain("Why was my credit card charged twice this month?");
    expect(prompt).not.toContain("How do I invite a teammate?");
    expect(prompt).toContain("<question>\nMy card was charged twice\n</question>");
  });

  it("fails on throttling and on an overloaded service, so that SQS delivers the message again", async () => {
    standIn.reply({ error: "ThrottlingException", status: 429 });
    const throttled = classifier().classify("My card was charged twice", categories, []);
    await expect(throttled).rejects.toBeInstanceOf(BedrockUnavailableError);
    await expect(throttled).rejects.toThrow(/ThrottlingException \(HTTP 429\)/);
    standIn.reply({ error: "ServiceUnavailableException", status: 503 });
    await expect(classifier().classify("q", categories, [])).rejects.toBeInstanceOf(BedrockUnavailableError);
    standIn.reply({ error: "AccessDeniedException", status: 403 });
    await expect(classifier().classify("q", categories, [])).rejects.toBeInstanceOf(BedrockRequestError);
  });

  it("refuses an answer that is not a label of an offered category", async () => {
    const malformed = [
      { text: "I think it is Billing." },
      { label: { ...good, category_id: "c-of-another-project" } },
      { label: { ...good, confidence: 1.5 } },
      { label: { category_id: "c-billing", confidence: 0.5 } },
    ];
    standIn.reply(...malformed);
    const reasons = [/did not call the label tool/, /not one of the categories offered/, /confidence/, /rationale/];
    for (const reason of reasons) {
      const answer = classifier().classify("My card was charged twice", categories, []);
      await expect(answer).rejects.toBeInstanceOf(MalformedAnswerError);
      await expect(answer).rejects.toThrow(reason);
    }
  });

  it("gives up on a call that does not answer within its time budget", async () => {
    standIn.reply("hang");
    await expect(classifier(300).classify("q", categories, [])).rejects.toBeInstanceOf(BedrockTimeoutError);
  });

  it("records the tokens in and out as metrics, also for an answer it refuses", async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    vi.stubEnv("LOG_LEVEL", "info");
    try {
      standIn.reply({ text: "no tool" });
      await expect(classifier().classify("q", categories, [])).rejects.toBeInstanceOf(MalformedAnswerError);
    } finally {
      vi.unstubAllEnvs();
      write.mockRestore();
    }
    const metrics = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const value = (name: string) => metrics.find((m) => name in m)?.[name];
    expect(value("ClassifierInputTokens")).toBe(STAND_IN_USAGE.inputTokens);
    expect(value("ClassifierOutputTokens")).toBe(STAND_IN_USAGE.outputTokens);
    expect(metrics.find((m) => "ClassifierProviderErrors" in m)).toMatchObject({ Kind: "malformed", Model: MODEL });
  });
});

describe("the nearest examples", () => {
  it("are the most similar few per category, only of the categories offered", () => {
    const many: LabelExample[] = [
      ...Array.from({ length: 6 }, (_, i) => ({ categoryId: "c-billing", question: `refund of invoice ${i}` })),
      { categoryId: "c-errors", question: "refund page shows an error" },
      { categoryId: "c-gone", question: "refund invoice" },
    ];
    const chosen = nearestExamples("How do I get a refund for an invoice?", categories, many);
    expect(chosen.filter((e) => e.categoryId === "c-billing")).toHaveLength(EXAMPLES_PER_CATEGORY);
    expect(chosen.map((e) => e.categoryId)).toContain("c-errors");
    expect(chosen.map((e) => e.categoryId)).not.toContain("c-gone");
  });
});

describe("model ids", () => {
  it("tell an inference profile from a foundation model", () => {
    expect(bedrockModelRef(MODEL)).toEqual({
      id: MODEL,
      foundationModelId: "anthropic.claude-haiku-4-5-20251001-v1:0",
      inferenceProfile: true,
    });
    expect(bedrockModelRef("anthropic.claude-3-haiku-20240307-v1:0").inferenceProfile).toBe(false);
    expect(() => bedrockModelRef("arn:aws:bedrock:us-east-1::foundation-model/x")).toThrow(/not a Bedrock model id/);
  });
});
