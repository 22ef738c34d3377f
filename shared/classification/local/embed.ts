import { isStopWord, stem, tokenize } from "./text.js";
import type { WordVectors } from "./vectors.js";

/** A text as the classifier sees it: its content words, their vectors and weights, and its sentence vector. */
export interface Bag {
  /** Stemmed content words, for lexical matching (also the words without a vector). */
  terms: string[];
  /** Content words that have a vector, in the order of `vecs`' rows. */
  words: string[];
  /** Unit vectors of `words`, `dimensions` values a row. */
  vecs: Float32Array;
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
  const vecs = new Float32Array(rows.length * d);
  const weights = new Float32Array(rows.length);
  const sentence = new Float32Array(d);
  rows.forEach((row, i) => {
    const w = sifWeight(row);
    weights[i] = w;
    for (let k = 0; k < d; k++) {
      const x = vectors.data[row * d + k] as number;
      vecs[i * d + k] = x;
      sentence[k] = (sentence[k] as number) + w * x;
    }
  });
  return { terms: content.map(stem), words, vecs, weights, sentence: normalize(sentence) };
}

/**
 * How well the words of `from` are covered by the words of `to`: each word of `from` takes its
 * best cosine with a word of `to`, averaged with the words' weights.
 */
export function alignment(from: Bag, to: Bag, d: number): number {
  const n = from.weights.length;
  const m = to.weights.length;
  if (n === 0 || m === 0) return 0;
  let total = 0;
  let weight = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let j = 0; j < m; j++) best = Math.max(best, dot(from.vecs, i * d, to.vecs, j * d, d));
    const w = from.weights[i] as number;
    total += w * best;
    weight += w;
  }
  return total / weight;
}
