import { type Bag, dot, type QuestionView } from "./embed.js";

/** The tunable weights of the local classifier (see docs/classification.md for how they were chosen). */
export interface ScoreWeights {
  /** Question words aligned with the category's name and description. */
  align: number;
  /** Question words aligned with the words of the category's text and all its examples together. */
  cloud: number;
  /** The nearest examples of the category (its text when nobody corrected it yet). */
  knn: number;
  /** BM25 over the category's name, description and examples. */
  lexical: number;
}

export interface CategoryDocs {
  name: Bag;
  text: Bag;
  examples: Bag[];
}

export type Components = Record<keyof ScoreWeights, number[]>;

// The mean of the two best examples: one stray example alone does not carry a label.
const KNN_K = 2;

function nearest(view: QuestionView, docs: CategoryDocs): number {
  // A category nobody has corrected yet stands on its own text, so that it competes evenly.
  const examples = docs.examples.length > 0 ? docs.examples : [docs.text];
  const d = view.q.sentence.length;
  const sims = examples.map(
    (ex) => 0.5 * dot(view.q.sentence, 0, ex.sentence, 0, d) + 0.25 * view.covers([ex]) + 0.25 * view.coveredBy(ex),
  );
  sims.sort((x, y) => y - x);
  const top = sims.slice(0, KNN_K);
  return top.reduce((s, x) => s + x, 0) / top.length;
}

function counts(terms: readonly string[]): Map<string, number> {
  const tf = new Map<string, number>();
  for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
  return tf;
}

/** BM25 of the question's terms against each category's text plus examples, idf across categories. */
function bm25(q: Bag, all: readonly CategoryDocs[]): number[] {
  const docs = all.map((c) => {
    const terms = [...c.name.terms, ...c.name.terms, ...c.text.terms, ...c.examples.flatMap((e) => e.terms)];
    return { tf: counts(terms), length: terms.length };
  });
  const avg = docs.reduce((s, doc) => s + doc.length, 0) / Math.max(1, docs.length) || 1;
  const k1 = 1.2;
  const b = 0.75;
  const terms = [...new Set(q.terms)];
  const idf = terms.map((t) => {
    const n = docs.filter((doc) => doc.tf.has(t)).length;
    return Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
  });
  return docs.map((doc) => {
    let score = 0;
    terms.forEach((t, i) => {
      const tf = doc.tf.get(t) ?? 0;
      if (tf > 0) score += ((idf[i] as number) * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / avg));
    });
    return score;
  });
}

export function components(view: QuestionView, all: readonly CategoryDocs[]): Components {
  return {
    align: all.map((c) => view.covers([c.text])),
    cloud: all.map((c) => view.covers([c.text, ...c.examples])),
    knn: all.map((c) => nearest(view, c)),
    lexical: bm25(view.q, all),
  };
}

/** Each component as z-scores across the categories, so that the weights compare like with like. */
function standardized(values: number[]): number[] {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
  return values.map((x) => (sd > 1e-9 ? (x - mean) / sd : 0));
}

export function combine(parts: Components, weights: ScoreWeights): number[] {
  const n = parts.align.length;
  const total = new Array<number>(n).fill(0);
  for (const key of Object.keys(weights) as (keyof ScoreWeights)[]) {
    const w = weights[key];
    if (w === 0) continue;
    standardized(parts[key]).forEach((z, i) => {
      total[i] = (total[i] as number) + w * z;
    });
  }
  return total;
}
