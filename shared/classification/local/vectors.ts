import { readFileSync } from "node:fs";

/**
 * Word vectors in a small binary format: "KWV1", then as little-endian u32 the dimensions, the
 * word count, the precision (1 = signed bytes, 4 = float32) and the byte length of the word list;
 * the words joined by "\n", most frequent first; then the unit-length vectors, row by row.
 */
export interface WordVectors {
  dimensions: number;
  /** Row of each word; the row is also the word's frequency rank (0 = most frequent). */
  index: Map<string, number>;
  /** All vectors, unit length, `dimensions` values a row. */
  data: Float32Array;
  size: number;
}

const MAGIC = "KWV1";
const HEADER = 20;

export function encodeVectors(
  words: readonly string[],
  rows: readonly (readonly number[])[],
  dimensions: number,
  precision: "int8" | "float32",
): Buffer {
  const list = Buffer.from(words.join("\n"), "utf8");
  const bytes = precision === "int8" ? 1 : 4;
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, "latin1");
  header.writeUInt32LE(dimensions, 4);
  header.writeUInt32LE(words.length, 8);
  header.writeUInt32LE(bytes, 12);
  header.writeUInt32LE(list.length, 16);
  const body = Buffer.alloc(words.length * dimensions * bytes);
  rows.forEach((row, r) => {
    const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0)) || 1;
    for (let d = 0; d < dimensions; d++) {
      const x = (row[d] ?? 0) / norm;
      const at = (r * dimensions + d) * bytes;
      // A unit vector's coordinates lie in [-1, 1]; 127 steps keep the cosine error small.
      if (bytes === 1) body.writeInt8(Math.max(-127, Math.min(127, Math.round(x * 127))), at);
      else body.writeFloatLE(x, at);
    }
  });
  return Buffer.concat([header, list, body]);
}

export function decodeVectors(buffer: Buffer): WordVectors {
  if (buffer.toString("latin1", 0, 4) !== MAGIC) throw new Error("not a word-vector file (bad magic)");
  const dimensions = buffer.readUInt32LE(4);
  const size = buffer.readUInt32LE(8);
  const bytes = buffer.readUInt32LE(12);
  const listLength = buffer.readUInt32LE(16);
  const words = buffer.toString("utf8", HEADER, HEADER + listLength).split("\n");
  const index = new Map<string, number>();
  words.forEach((w, i) => {
    index.set(w, i);
  });
  const start = HEADER + listLength;
  const data = new Float32Array(size * dimensions);
  if (bytes === 1) {
    const raw = new Int8Array(buffer.buffer, buffer.byteOffset + start, size * dimensions);
    for (let i = 0; i < raw.length; i++) data[i] = (raw[i] as number) / 127;
  } else {
    for (let i = 0; i < data.length; i++) data[i] = buffer.readFloatLE(start + i * 4);
  }
  return { dimensions, index, data, size };
}

export function loadVectors(path: string): WordVectors {
  return decodeVectors(readFileSync(path));
}
