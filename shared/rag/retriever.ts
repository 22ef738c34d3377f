export interface DocumentChunk {
  id: string;
  title: string;
  content: string;
}

/**
 * Retrieval is always scoped to one project: an implementation over a shared vector store must
 * filter by `projectId` (a metadata filter or a namespace per project), so no question can be
 * answered from another tenant's documents.
 */
export interface Retriever {
  retrieve(query: { projectId: string; question: string; k?: number }): Promise<DocumentChunk[]>;
}

/** Where a retriever finds one project's chunks: the project id is the only way in. */
export type ChunkSource = (projectId: string) => readonly DocumentChunk[];

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
 * Stands in for a vector store: ranks the project's chunks by words shared with the question
 * (ties by position) and returns the top k, so the same question always retrieves the same
 * chunks. Every project reads the demo knowledge base unless a source says otherwise.
 */
export class KeywordRetriever implements Retriever {
  constructor(private readonly source: ChunkSource = () => DEMO_CHUNKS) {}

  async retrieve({ projectId, question, k = 5 }: { projectId: string; question: string; k?: number }) {
    const asked = words(question);
    return this.source(projectId)
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
