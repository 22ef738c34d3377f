import { createHash } from "node:crypto";
import type { CategoryOption } from "../shared/classification/classifier.js";

const words = (text: string) => new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? []);

/**
 * The pipeline's former classifier, kept as the benchmark's baseline: the category whose name and
 * description share the most words with the question; ties broken by a hash of the question.
 */
export function wordMatch(question: string, categories: readonly CategoryOption[]): CategoryOption | undefined {
  const asked = words(question);
  const scored = categories.map((category) => {
    let score = 0;
    for (const w of words(`${category.name} ${category.description}`)) if (asked.has(w)) score++;
    return { category, score };
  });
  const best = Math.max(...scored.map((s) => s.score));
  const tied = scored.filter((s) => s.score === best).sort((a, b) => a.category.id.localeCompare(b.category.id));
  const pick = createHash("sha256").update(question).digest().readUInt32BE(0) % Math.max(1, tied.length);
  return tied[pick]?.category;
}
