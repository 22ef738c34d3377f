import type { CategoryOption, Classification, Classifier, LabelExample } from "./classifier.js";
import { isStopWord, stem, tokenize } from "./local/text.js";

/**
 * The `k nearest` examples for providers where every example costs tokens (a hosted model's
 * prompt): the project's examples ranked by the content words they share with the question,
 * each word weighted by its rarity among the examples (idf), ties kept in the given order (the
 * newest first, as the pipeline loads them). Lexical on purpose: no vectors to load, microseconds
 * for a thousand examples.
 */
export function nearestExamples(question: string, examples: readonly LabelExample[], k: number): LabelExample[] {
  if (examples.length <= k) return [...examples];
  const terms = (text: string) =>
    new Set(
      tokenize(text)
        .filter((w) => !isStopWord(w))
        .map(stem),
    );
  const asked = terms(question);
  const bags = examples.map((e) => terms(e.question));
  const documentFrequency = new Map<string, number>();
  for (const bag of bags)
    for (const t of bag) if (asked.has(t)) documentFrequency.set(t, (documentFrequency.get(t) ?? 0) + 1);
  const idf = (t: string) => Math.log(1 + examples.length / (documentFrequency.get(t) ?? examples.length));
  const scored = bags.map((bag, index) => {
    let score = 0;
    for (const t of bag) if (asked.has(t)) score += idf(t);
    return { index, score: bag.size > 0 ? score / Math.sqrt(bag.size) : 0 };
  });
  scored.sort((a, b) => b.score - a.score || a.index - b.index);
  return scored.slice(0, k).map((s) => examples[s.index] as LabelExample);
}

/** A provider that receives only the `k` examples nearest to each question. */
export function withNearestExamples(inner: Classifier, k: number): Classifier {
  return {
    classify(
      question: string,
      categories: readonly CategoryOption[],
      examples: readonly LabelExample[],
    ): Promise<Classification> {
      return inner.classify(question, categories, nearestExamples(question, examples, k));
    },
  };
}
