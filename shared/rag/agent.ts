import type { LlmClient } from "./llm.js";
import type { DocumentChunk, Retriever } from "./retriever.js";

export const INSTRUCTIONS =
  "You are a helpful assistant for a software product. Answer the user's question using only the documents below. If they do not contain the answer, say so.";

export function buildPrompt(question: string, documents: readonly DocumentChunk[]): string {
  const docs = documents.map((d, i) => `[${i + 1}] ${d.title}\n${d.content}`).join("\n\n");
  return `${INSTRUCTIONS}\n\n# Documents\n\n${docs}\n\n# Question\n\n${question}\n\n# Answer\n`;
}

export class RagAgent {
  constructor(
    private readonly retriever: Retriever,
    private readonly llm: LlmClient,
  ) {}

  /** Answers from the project's own documents only. */
  async answer(projectId: string, question: string): Promise<string> {
    const documents = await this.retriever.retrieve({ projectId, question, k: 5 });
    return this.llm.complete(buildPrompt(question, documents));
  }
}
