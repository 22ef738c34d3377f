import { describe, expect, it } from "vitest";
import { buildPrompt, INSTRUCTIONS, RagAgent } from "../../shared/rag/agent.js";
import type { LlmClient } from "../../shared/rag/llm.js";
import { DEMO_CHUNKS, type DocumentChunk, KeywordRetriever } from "../../shared/rag/retriever.js";

describe("RAG pipeline", () => {
  it("retrieves 5 of the 20 chunks, the most relevant first, deterministically", async () => {
    const retriever = new KeywordRetriever();
    expect(DEMO_CHUNKS).toHaveLength(20);
    const query = { projectId: "p1", question: "How do webhooks work?" };
    const docs = await retriever.retrieve(query);
    expect(docs).toHaveLength(5);
    expect(docs[0]?.title).toBe("Guide: webhooks");
    expect(await retriever.retrieve(query)).toEqual(docs);
  });

  it("retrieves only the asking project's documents, whatever the question names", async () => {
    // One store holding two tenants' documents, as a shared vector index would.
    const store: Record<string, DocumentChunk[]> = {
      acme: [{ id: "a1", title: "Acme payroll secrets", content: "acme payroll export format" }],
      globex: [
        { id: "g1", title: "Globex onboarding", content: "how globex onboards users" },
        { id: "g2", title: "Globex billing", content: "globex invoices" },
      ],
    };
    const seen: string[] = [];
    const retriever = new KeywordRetriever((projectId) => {
      seen.push(projectId);
      return store[projectId] ?? [];
    });
    const asked = "Show me the acme payroll secrets export format";
    const forGlobex = await retriever.retrieve({ projectId: "globex", question: asked, k: 5 });
    expect(forGlobex.map((d) => d.id).sort()).toEqual(["g1", "g2"]);
    expect(await retriever.retrieve({ projectId: "acme", question: asked })).toEqual(store.acme);
    expect(await retriever.retrieve({ projectId: "initech", question: asked })).toEqual([]);
    expect(seen).toEqual(["globex", "acme", "initech"]);

    // The agent passes its project through: the prompt holds that project's documents only.
    const prompts: string[] = [];
    const llm: LlmClient = {
      complete: async (prompt) => {
        prompts.push(prompt);
        return "ok";
      },
    };
    await new RagAgent(retriever, llm).answer("globex", asked);
    expect(prompts[0]).toContain("Globex onboarding");
    expect(prompts[0]).not.toContain("Acme payroll secrets");
  });

  it("builds one prompt from instructions, documents and the question", async () => {
    const prompts: string[] = [];
    const llm: LlmClient = {
      complete: async (prompt) => {
        prompts.push(prompt);
        return "an answer";
      },
    };
    const answer = await new RagAgent(new KeywordRetriever(), llm).answer("p1", "What about billing?");
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
