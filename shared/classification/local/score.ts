import { type Bag, type Coverage, dot, type QuestionView, weightedMean } from "./embed.js";

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
export const MATCHED_EXAMPLES = 5;

/** A question's scratch space, reused across its categories: nothing is allocated per category. */
export class Scratch {
  readonly best: Float32Array;
  readonly cloud: Float32Array;
  readonly coverage: Coverage = { covers: 0, coveredBy: 0 };
  /** The matched examples' indices and sentence cosines, best first. */
  readonly top = new Int32Array(MATCHED_EXAMPLES);
  readonly topScores = new Float64Array(MATCHED_EXAMPLES);

  constructor(readonly view: QuestionView) {
    const n = view.q.rows.length;
    this.best = new Float32Array(n);
    this.cloud = new Float32Array(n);
  }
}

/**
 * The category's examples nearest to the question by sentence vector, into `top`/`topScores`
 * (best first; earlier examples first on ties), and how many. Every example when there are
 * at most MATCHED_EXAMPLES, in their order.
 */
function nearestBySentence(scratch: Scratch, docs: CategoryDocs): number {
  const { examples, sentences } = docs;
  const q = scratch.view.q.sentence;
  const d = q.length;
  const { top, topScores } = scratch;
  const all = examples.length <= MATCHED_EXAMPLES;
  let count = 0;
  for (let i = 0; i < examples.length; i++) {
    let s = 0;
    const base = i * d;
    for (let k = 0; k < d; k++) s += (q[k] as number) * (sentences[base + k] as number);
    if (all) {
      top[count] = i;
      topScores[count++] = s;
      continue;
    }
    if (count === MATCHED_EXAMPLES && s <= (topScores[MATCHED_EXAMPLES - 1] as number)) continue;
    let at = Math.min(count, MATCHED_EXAMPLES - 1);
    while (at > 0 && s > (topScores[at - 1] as number)) {
      topScores[at] = topScores[at - 1] as number;
      top[at] = top[at - 1] as number;
      at--;
    }
    topScores[at] = s;
    top[at] = i;
    if (count < MATCHED_EXAMPLES) count++;
  }
  return count;
}

/** The word-level scores of one category: its text alone, its text and examples together, and its nearest examples. */
function wordScores(scratch: Scratch, docs: CategoryDocs): { align: number; cloud: number; knn: number } {
  const { view, best, cloud, coverage } = scratch;
  const n = view.q.rows.length;
  cloud.fill(-1);
  const d = view.q.sentence.length;
  const text = view.match(docs.text, best, coverage, cloud);
  const align = text.covers;
  let anyWord = docs.text.rows.length > 0;
  // The two best examples (their mean): one stray example alone does not carry a label.
  let first = Number.NEGATIVE_INFINITY;
  let second = Number.NEGATIVE_INFINITY;
  const matched = nearestBySentence(scratch, docs);
  if (matched === 0) {
    // A category nobody has corrected yet stands on its own text, so that it competes evenly.
    first = 0.5 * dot(view.q.sentence, 0, docs.text.sentence, 0, d) + 0.25 * text.covers + 0.25 * text.coveredBy;
  }
  for (let m = 0; m < matched; m++) {
    const ex = docs.examples[scratch.top[m] as number] as Bag;
    if (ex.rows.length > 0) anyWord = true;
    const c = view.match(ex, best, coverage, cloud);
    const sim = 0.5 * (scratch.topScores[m] as number) + 0.25 * c.covers + 0.25 * c.coveredBy;
    if (sim > first) {
      second = first;
      first = sim;
    } else if (sim > second) second = sim;
  }
  return {
    align,
    cloud: n > 0 && anyWord ? weightedMean(cloud, view.q.weights, n) : 0,
    knn: second === Number.NEGATIVE_INFINITY ? first : (first + second) / KNN_K,
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
  const scratch = new Scratch(view);
  const words = all.map((c) => wordScores(scratch, c));
  return {
    align: words.map((w) => w.align),
    cloud: words.map((w) => w.cloud),
    knn: words.map((w) => w.knn),
    lexical: bm25(view.q, all),
  };
}

/** A component's mean and standard deviation across the categories. */
export function spread(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  return { mean, sd: Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length) };
}

/** Each component as z-scores across the categories, so that the weights compare like with like. */
function standardized(values: number[]): number[] {
  const { mean, sd } = spread(values);
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
