import { type Bag, dot, type QuestionView, weightedMean } from "./embed.js";

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
  /** Term counts of the name (twice), description and examples, and their total: the BM25 document. */
  tf: Map<string, number>;
  length: number;
  /** The examples' sentence vectors one after the other: the nearest are found in one pass. */
  sentences: Float32Array;
}

export function categoryDocs(name: Bag, text: Bag, examples: Bag[]): CategoryDocs {
  const tf = new Map<string, number>();
  let length = 0;
  for (const bag of [name, name, text, ...examples]) {
    for (const t of bag.terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    length += bag.terms.length;
  }
  const d = name.sentence.length;
  const sentences = new Float32Array(examples.length * d);
  examples.forEach((ex, i) => {
    sentences.set(ex.sentence, i * d);
  });
  return { name, text, examples, tf, length, sentences };
}

export type Components = Record<keyof ScoreWeights, number[]>;

// The mean of the two best examples: one stray example alone does not carry a label.
const KNN_K = 2;

/**
 * Examples of a category compared word by word with the question: the nearest by sentence vector
 * (one dot product each). Word alignment costs a column per distinct word, so this bounds a
 * question's cost at 50 examples a category whatever the project keeps.
 */
export const MATCHED_EXAMPLES = 8;

function nearestBySentence(view: QuestionView, docs: CategoryDocs): readonly Bag[] {
  const { examples, sentences } = docs;
  if (examples.length <= MATCHED_EXAMPLES) return examples;
  const q = view.q.sentence;
  const d = q.length;
  // Top MATCHED_EXAMPLES by insertion, in order (earlier examples first on ties): no sort, no garbage.
  const top: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < examples.length; i++) {
    let s = 0;
    const base = i * d;
    for (let k = 0; k < d; k++) s += (q[k] as number) * (sentences[base + k] as number);
    if (top.length === MATCHED_EXAMPLES && s <= (scores[MATCHED_EXAMPLES - 1] as number)) continue;
    let at = Math.min(top.length, MATCHED_EXAMPLES - 1);
    while (at > 0 && s > (scores[at - 1] as number)) {
      scores[at] = scores[at - 1] as number;
      top[at] = top[at - 1] as number;
      at--;
    }
    scores[at] = s;
    top[at] = i;
  }
  return top.map((i) => examples[i] as Bag);
}

/** The word-level scores of one category: its text alone, its text and examples together, and its nearest examples. */
function wordScores(view: QuestionView, docs: CategoryDocs): { align: number; cloud: number; knn: number } {
  const n = view.q.rows.length;
  const best = new Float32Array(n);
  const cloud = new Float32Array(n).fill(-1);
  const d = view.q.sentence.length;
  const similarity = (doc: Bag, m: { covers: number; coveredBy: number }) =>
    0.5 * dot(view.q.sentence, 0, doc.sentence, 0, d) + 0.25 * m.covers + 0.25 * m.coveredBy;
  const text = view.match(docs.text, best, cloud);
  const examples = nearestBySentence(view, docs);
  // A category nobody has corrected yet stands on its own text, so that it competes evenly.
  const sims =
    examples.length > 0
      ? examples.map((ex) => similarity(ex, view.match(ex, best, cloud)))
      : [similarity(docs.text, text)];
  sims.sort((x, y) => y - x);
  const top = sims.slice(0, KNN_K);
  const anyWord = docs.text.rows.length > 0 || examples.some((ex) => ex.rows.length > 0);
  return {
    align: text.covers,
    cloud: n > 0 && anyWord ? weightedMean(cloud, view.q.weights, n) : 0,
    knn: top.reduce((s, x) => s + x, 0) / top.length,
  };
}

/** BM25 of the question's terms against each category's text plus examples, idf across categories. */
function bm25(q: Bag, docs: readonly CategoryDocs[]): number[] {
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
  const words = all.map((c) => wordScores(view, c));
  return {
    align: words.map((w) => w.align),
    cloud: words.map((w) => w.cloud),
    knn: words.map((w) => w.knn),
    lexical: bm25(view.q, all),
  };
}

/**
 * The spread of each component below which differences between categories are noise (about the
 * 5th percentile of its spread over ten categories on the development sets, docs/classification.md).
 * A z-score divides by the spread across the categories; without a floor, two categories that
 * differ by a hair are a full standard deviation apart (with two, every z is -1, 0 or +1), and the
 * confidence of a near-tie was as high as that of a clear win.
 */
export const NOISE_SPREAD: Readonly<ScoreWeights> = { align: 0.045, cloud: 0.045, knn: 0.04, lexical: 0.45 };

/** Each component as z-scores across the categories, so that the weights compare like with like. */
function standardized(values: number[], floor: number): number[] {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
  const scale = Math.max(sd, floor);
  return values.map((x) => (scale > 1e-9 ? (x - mean) / scale : 0));
}

export function combine(
  parts: Components,
  weights: ScoreWeights,
  noise: Readonly<ScoreWeights> = NOISE_SPREAD,
): number[] {
  const n = parts.align.length;
  const total = new Array<number>(n).fill(0);
  for (const key of Object.keys(weights) as (keyof ScoreWeights)[]) {
    const w = weights[key];
    if (w === 0) continue;
    standardized(parts[key], noise[key]).forEach((z, i) => {
      total[i] = (total[i] as number) + w * z;
    });
  }
  return total;
}
