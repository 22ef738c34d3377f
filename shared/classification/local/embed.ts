import { isStopWord, stem, tokenize } from "./text.js";
import type { WordVectors } from "./vectors.js";

/** A text as the classifier sees it: its content words, their vector rows and weights, and its sentence vector. */
export interface Bag {
  /** Stemmed content words, for lexical matching (also the words without a vector). */
  terms: string[];
  /** Content words that have a vector, and their rows in the vector table. */
  words: string[];
  rows: Int32Array;
  weights: Float32Array;
  /** Weighted mean of the word vectors, unit length (zero when no word has a vector). */
  sentence: Float32Array;
}

// Smooth inverse frequency (Arora et al. 2017): frequent words weigh little. The vector file
// lists words most frequent first, so a Zipf law over the rank stands in for the word counts.
const SIF_A = 1e-3;
const ZIPF_NORM = 13;
const sifWeight = (rank: number) => SIF_A / (SIF_A + 1 / ((rank + 1) * ZIPF_NORM));

export function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / n;
  return v;
}

export function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += (a[ai + k] as number) * (b[bi + k] as number);
  return s;
}

export function embed(text: string, vectors: WordVectors, vocabLimit = Number.POSITIVE_INFINITY): Bag {
  const d = vectors.dimensions;
  const content = tokenize(text).filter((w) => !isStopWord(w));
  const rows: number[] = [];
  const words: string[] = [];
  for (const w of content) {
    const row = vectors.index.get(w) ?? vectors.index.get(stem(w));
    if (row !== undefined && row < vocabLimit) {
      rows.push(row);
      words.push(w);
    }
  }
  const weights = new Float32Array(rows.map(sifWeight));
  const sentence = new Float32Array(d);
  rows.forEach((row, i) => {
    const w = weights[i] as number;
    for (let k = 0; k < d; k++) sentence[k] = (sentence[k] as number) + w * (vectors.data[row * d + k] as number);
  });
  return { terms: content.map(stem), words, rows: Int32Array.from(rows), weights, sentence: normalize(sentence) };
}

/**
 * Cosines of a question's words with other words, computed once per question: the categories'
 * texts and examples share most of their words. Flat arrays stamped with the question's
 * generation, so that a question allocates nothing and nothing is cleared between questions.
 * One per classifier: questions are classified one at a time (synchronously).
 */
export class ColumnCache {
  private generation = 0;
  private readonly stamp: Int32Array;
  private readonly offset: Int32Array;
  /** Each computed column, `n` values (one per question word) from its offset. */
  pool = new Float32Array(1 << 14);
  private used = 0;

  constructor(readonly vectors: WordVectors) {
    this.stamp = new Int32Array(vectors.size);
    this.offset = new Int32Array(vectors.size);
  }

  /** Starts a new question: every column computed before is stale. */
  next(): void {
    this.used = 0;
    if (++this.generation === 0x7fffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
  }

  /** Where the column of `row` starts in `pool` (computed now if this question has not needed it yet). */
  column(q: Bag, row: number): number {
    if (this.stamp[row] === this.generation) return this.offset[row] as number;
    const n = q.rows.length;
    if (this.used + n > this.pool.length) {
      const grown = new Float32Array(Math.max(this.pool.length * 2, this.used + n));
      grown.set(this.pool.subarray(0, this.used));
      this.pool = grown;
    }
    const at = this.used;
    const d = this.vectors.dimensions;
    const data = this.vectors.data;
    for (let i = 0; i < n; i++) this.pool[at + i] = dot(data, (q.rows[i] as number) * d, data, row * d, d);
    this.used += n;
    this.stamp[row] = this.generation;
    this.offset[row] = at;
    return at;
  }
}

/** How well two texts' words cover each other: the question's by the document's, and the reverse. */
export interface Coverage {
  covers: number;
  coveredBy: number;
}

/** The question's words against any other word (through the classifier's ColumnCache). */
export class QuestionView {
  constructor(
    readonly q: Bag,
    private readonly cache: ColumnCache,
  ) {
    cache.next();
  }

  /** Cosine of each question word with the word at `row`. */
  column(row: number): Float32Array {
    const at = this.cache.column(this.q, row);
    return this.cache.pool.slice(at, at + this.q.rows.length);
  }

  /**
   * How well the question's words are covered by the words of `doc` (each takes its best cosine,
   * weighted), and the reverse, into `out`. `best` receives each question word's best cosine, and
   * `floor` (if given) is raised to it: the best over several documents, without a second pass.
   */
  match(doc: Bag, best: Float32Array, out: Coverage, floor?: Float32Array): Coverage {
    const n = this.q.rows.length;
    best.fill(-1, 0, n);
    out.covers = 0;
    out.coveredBy = 0;
    if (n === 0 || doc.rows.length === 0) return out;
    let reverse = 0;
    let reverseWeight = 0;
    const cache = this.cache;
    for (let j = 0; j < doc.rows.length; j++) {
      const at = cache.column(this.q, doc.rows[j] as number);
      const pool = cache.pool;
      let top = -1;
      for (let i = 0; i < n; i++) {
        const c = pool[at + i] as number;
        if (c > (best[i] as number)) best[i] = c;
        if (c > top) top = c;
      }
      reverse += top * (doc.weights[j] as number);
      reverseWeight += doc.weights[j] as number;
    }
    if (floor) for (let i = 0; i < n; i++) if ((best[i] as number) > (floor[i] as number)) floor[i] = best[i] as number;
    out.covers = weightedMean(best, this.q.weights, n);
    out.coveredBy = reverseWeight > 0 ? reverse / reverseWeight : 0;
    return out;
  }
}

export function weightedMean(values: Float32Array, weights: Float32Array, n = weights.length): number {
  let total = 0;
  let weight = 0;
  for (let i = 0; i < n; i++) {
    total += (values[i] as number) * (weights[i] as number);
    weight += weights[i] as number;
  }
  return weight > 0 ? total / weight : 0;
}
