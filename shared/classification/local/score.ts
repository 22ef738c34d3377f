import { alignment, type Bag, dot, normalize } from "./embed.js";

/** The tunable weights of the local classifier (see docs/classification.md for how they were chosen). */
export interface ScoreWeights {
  /** Sentence-vector cosine with the category's name and description. */
  sentence: number;
  /** Question words aligned with the category's words. */
  align: number;
  /** The category name's words found in the question. */
  name: number;
  /** Best match among the category's examples (nearest neighbour). */
  knn: number;
  /** Cosine with the mean of the category's examples (prototype). */
  proto: number;
  /** BM25 over the category's text and examples. */
  lexical: number;
  /** Question words aligned with the words of the category's text and all its examples together. */
  cloud: number;
}

export interface CategoryDocs {
  name: Bag;
  text: Bag;
  examples: Bag[];
}

// The mean of the two best examples: one stray example alone does not carry a label.
const KNN_K = 2;

export type Components = Record<keyof ScoreWeights, number[]>;

function cosine(a: Float32Array, b: Float32Array): number {
  return dot(a, 0, b, 0, a.length);
}

function merged(bags: readonly Bag[], d: number): Bag {
  const n = bags.reduce((s, b) => s + b.weights.length, 0);
  const vecs = new Float32Array(n * d);
  const weights = new Float32Array(n);
  let at = 0;
  for (const b of bags) {
    vecs.set(b.vecs, at * d);
    weights.set(b.weights, at);
    at += b.weights.length;
  }
  return { terms: [], words: bags.flatMap((b) => b.words), vecs, weights, sentence: new Float32Array(d) };
}

function exampleScores(q: Bag, docs: CategoryDocs, d: number): { knn: number; proto: number } {
  // A category nobody has corrected yet stands on its own text, so that it competes evenly.
  const examples = docs.examples.length > 0 ? docs.examples : [docs.text];
  const mean = new Float32Array(d);
  const sims: number[] = [];
  for (const ex of examples) {
    sims.push(0.5 * cosine(q.sentence, ex.sentence) + 0.25 * alignment(q, ex, d) + 0.25 * alignment(ex, q, d));
    for (let k = 0; k < d; k++) mean[k] = (mean[k] as number) + (ex.sentence[k] as number);
  }
  sims.sort((x, y) => y - x);
  const top = sims.slice(0, KNN_K);
  return { knn: top.reduce((s, x) => s + x, 0) / top.length, proto: cosine(q.sentence, normalize(mean)) };
}

/** BM25 of the question's terms against each category's text plus examples, idf across categories. */
function bm25(q: Bag, all: readonly CategoryDocs[]): number[] {
  const docs = all.map((c) => [...c.name.terms, ...c.name.terms, ...c.text.terms, ...c.examples.flatMap((e) => e.terms)]);
  const avg = docs.reduce((s, t) => s + t.length, 0) / Math.max(1, docs.length) || 1;
  const k1 = 1.2;
  const b = 0.75;
  const terms = [...new Set(q.terms)];
  const df = new Map(terms.map((t) => [t, docs.filter((doc) => doc.includes(t)).length]));
  return docs.map((doc) => {
    let score = 0;
    for (const t of terms) {
      let tf = 0;
      for (const x of doc) if (x === t) tf++;
      if (tf === 0) continue;
      const n = df.get(t) ?? 0;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / avg));
    }
    return score;
  });
}

export function components(q: Bag, all: readonly CategoryDocs[], d: number): Components {
  const examples = all.map((c) => exampleScores(q, c, d));
  return {
    sentence: all.map((c) => cosine(q.sentence, c.text.sentence)),
    align: all.map((c) => alignment(q, c.text, d)),
    name: all.map((c) => alignment(c.name, q, d)),
    knn: examples.map((e) => e.knn),
    proto: examples.map((e) => e.proto),
    lexical: bm25(q, all),
    cloud: all.map((c) => alignment(q, merged([c.text, ...c.examples], d), d)),
  };
}

/** Each component as z-scores across the categories, so that the weights compare like with like. */
function standardized(values: number[]): number[] {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
  return values.map((x) => (sd > 1e-9 ? (x - mean) / sd : 0));
}

export function combine(parts: Components, weights: ScoreWeights): number[] {
  const n = parts.sentence.length;
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
