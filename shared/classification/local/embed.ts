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
 * The question's words against any other word, each cosine computed once per question: the
 * categories' texts and examples share most of their words.
 */
export class QuestionView {
  private readonly columns = new Map<number, Float32Array>();

  constructor(
    readonly q: Bag,
    private readonly vectors: WordVectors,
  ) {}

  /** Cosine of each question word with the word at `row`. */
  column(row: number): Float32Array {
    let col = this.columns.get(row);
    if (!col) {
      const d = this.vectors.dimensions;
      col = new Float32Array(this.q.rows.length);
      for (let i = 0; i < col.length; i++)
        col[i] = dot(this.vectors.data, (this.q.rows[i] as number) * d, this.vectors.data, row * d, d);
      this.columns.set(row, col);
    }
    return col;
  }

  /**
   * How well the question's words are covered by the words of `doc` (each takes its best cosine,
   * weighted), and the reverse. `best` receives each question word's best cosine, and `floor`
   * (if given) is raised to it: the best over several documents, without a second pass.
   */
  match(doc: Bag, best: Float32Array, floor?: Float32Array): { covers: number; coveredBy: number } {
    const n = this.q.rows.length;
    best.fill(-1, 0, n);
    if (n === 0 || doc.rows.length === 0) return { covers: 0, coveredBy: 0 };
    let reverse = 0;
    let reverseWeight = 0;
    for (let j = 0; j < doc.rows.length; j++) {
      const col = this.column(doc.rows[j] as number);
      let top = -1;
      for (let i = 0; i < n; i++) {
        const c = col[i] as number;
        if (c > (best[i] as number)) best[i] = c;
        if (c > top) top = c;
      }
      reverse += top * (doc.weights[j] as number);
      reverseWeight += doc.weights[j] as number;
    }
    if (floor) for (let i = 0; i < n; i++) if ((best[i] as number) > (floor[i] as number)) floor[i] = best[i] as number;
    return {
      covers: weightedMean(best, this.q.weights, n),
      coveredBy: reverseWeight > 0 ? reverse / reverseWeight : 0,
    };
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
