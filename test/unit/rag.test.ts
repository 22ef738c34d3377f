import { describe, expect, it } from "vitest";
import { buildPrompt, INSTRUCTIONS, RagAgent } from "../../shared/rag/agent.js";
import type { LlmClient } from "../../shared/rag/llm.js";
import { DEMO_CHUNKS, KeywordRetriever } from "../../shared/rag/retriever.js";

describe("RAG pipeline", () => {
  it("retrieves 5 of the 20 chunks, the most relevant first, deterministically", async () => {
    const retriever = new KeywordRetriever();
    expect(DEMO_CHUNKS).toHaveLength(20);
    const docs = await retriever.retrieve("How do webhooks work?");
    expect(docs).toHaveLength(5);
    expect(docs[0]?.title).toBe("Guide: webhooks");
    expect(await retriever.retrieve("How do webhooks work?")).toEqual(docs);
  });

  it("builds one prompt from instructions, documents and the question", async () => {
    const prompts: string[] = [];
    const llm: LlmClient = {
      complete: async (prompt) => {
        prompts.push(prompt);
        return "an answer";
      },
    };
    const answer = await new RagAgent(new KeywordRetriever(), llm).answer("What about billing?");
    expect(answer).toBe("an answer");
    expect(prompts).toHaveLength(1);
    const prompt = prompts[0] as string;
    expect(prompt.startsWith(INSTRUCTIONS)).toBe(true);
    expect(prompt).toContain("Guide: billing");
    expect(prompt.match(/^\[\d\] /gm)).toHaveLength(5);
    expect(prompt.trimEnd().endsWith("# Answer")).toBe(true);
    expect(prompt).toContain("# Question\n\nWhat about billing?");
    expect(buildPrompt("q", [])).toContain("# Question\n\nq");
  });
});
