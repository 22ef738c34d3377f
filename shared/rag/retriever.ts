export interface DocumentChunk {
  id: string;
  title: string;
  content: string;
}

export interface Retriever {
  retrieve(question: string, k?: number): Promise<DocumentChunk[]>;
}

const TOPICS = [
  "installation",
  "authentication",
  "api keys",
  "rate limits",
  "webhooks",
  "pagination",
  "errors",
  "deployment",
  "monitoring",
  "billing",
  "sdk",
  "search",
  "indexing",
  "permissions",
  "teams",
  "projects",
  "threads",
  "categories",
  "reports",
  "troubleshooting",
];

/** The 20 chunks of the demo knowledge base. */
export const DEMO_CHUNKS: readonly DocumentChunk[] = TOPICS.map((topic, i) => ({
  id: `doc-${String(i + 1).padStart(2, "0")}`,
  title: `Guide: ${topic}`,
  content: `This section of the documentation explains ${topic}: the concepts, the configuration and common pitfalls.`,
}));

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? []);
}

/**
 * Stands in for a vector store: ranks the chunks by words shared with the question (ties by
 * position) and returns the top k, so the same question always retrieves the same chunks.
 */
export class KeywordRetriever implements Retriever {
  constructor(private readonly chunks: readonly DocumentChunk[] = DEMO_CHUNKS) {}

  async retrieve(question: string, k = 5): Promise<DocumentChunk[]> {
    const asked = words(question);
    return this.chunks
      .map((chunk, position) => {
        let score = 0;
        for (const w of words(`${chunk.title} ${chunk.content}`)) if (asked.has(w)) score++;
        return { chunk, score, position };
      })
      .sort((a, b) => b.score - a.score || a.position - b.position)
      .slice(0, k)
      .map((r) => r.chunk);
  }
}
