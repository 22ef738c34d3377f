/**
 * Cuts the small subsets under bench/data/ from the public intent data sets (see the README of
 * each). `tsx scripts/intent-subsets.ts <clinc data_full.json> <clinc domains.json> <banking77 train.csv>
 * <banking77 test.csv>`.
 * The intents are chosen by a rule fixed before reading any question: the intent names sorted
 * (JavaScript code-unit order), then every 15th (CLINC150) or every 7th (Banking77), ten in all;
 * and, for a harder single-domain set, the first ten of CLINC150's "banking" domain.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

interface Row {
  text: string;
  intent: string;
}

const TRAIN_PER_INTENT = 20;

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function pick(all: readonly string[], step: number): string[] {
  return [...all]
    .sort()
    .filter((_, i) => i % step === 0)
    .slice(0, 10);
}

/** The first `perIntent` rows of each intent after a seeded shuffle. */
function sample(rows: readonly Row[], intents: readonly string[], perIntent: number): Row[] {
  const mixed = shuffled(rows, 1);
  return intents.flatMap((intent) => mixed.filter((r) => r.intent === intent).slice(0, perIntent));
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

function write(name: string, subset: Record<string, unknown>): void {
  mkdirSync(`bench/data/${name}`, { recursive: true });
  writeFileSync(`bench/data/${name}/questions.json`, `${JSON.stringify(subset, null, 1)}\n`);
}

const [clincPath, domainsPath, bankTrainPath, bankTestPath] = process.argv.slice(2);
if (!clincPath || !domainsPath || !bankTrainPath || !bankTestPath) {
  throw new Error("usage: intent-subsets <clinc.json> <domains.json> <train.csv> <test.csv>");
}

const clinc = JSON.parse(readFileSync(clincPath, "utf8")) as Record<string, [string, string][]>;
const toRows = (pairs: [string, string][] | undefined): Row[] =>
  (pairs ?? []).map(([text, intent]) => ({ text, intent }));
const clincSubset = (intents: string[]) => ({
  intents,
  train: sample(toRows(clinc.train), intents, TRAIN_PER_INTENT),
  val: sample(toRows(clinc.val), intents, Number.POSITIVE_INFINITY),
  test: sample(toRows(clinc.test), intents, Number.POSITIVE_INFINITY),
});
const clincIntents = pick([...new Set(toRows(clinc.train).map((r) => r.intent))], 15);
write("clinc150", clincSubset(clincIntents));
const domains = JSON.parse(readFileSync(domainsPath, "utf8")) as Record<string, string[]>;
write("clinc150-banking", clincSubset(pick(domains.banking ?? [], 1)));

const bankRows = (path: string): Row[] =>
  parseCsv(readFileSync(path, "utf8"))
    .slice(1)
    .map(([text, intent]) => ({ text: text ?? "", intent: intent ?? "" }));
const bankTrain = bankRows(bankTrainPath);
const bankIntents = pick([...new Set(bankTrain.map((r) => r.intent))], 7);
const bankTest = sample(bankRows(bankTestPath), bankIntents, Number.POSITIVE_INFINITY);
write("banking77", {
  intents: bankIntents,
  train: sample(bankTrain, bankIntents, TRAIN_PER_INTENT),
  test: bankTest,
});
process.stdout.write(
  `clinc150: ${clincIntents.length} intents; banking77: ${bankIntents.length} intents, ${bankTest.length} test\n`,
);
