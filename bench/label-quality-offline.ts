import { performance } from "node:perf_hooks";
import { LocalClassifier } from "../shared/classification/local/classifier.js";
import { DEFAULT_REVIEW_THRESHOLD } from "../shared/classification/local/index.js";
import { loadVectors } from "../shared/classification/local/vectors.js";
import {
  CORRECTION_STEPS,
  corrections,
  DEVELOPMENT_SETS,
  HELD_OUT_SETS,
  type IntentDataSet,
  loadIntentDataSet,
} from "./intent-data.js";
import { accuracyOf, byThreshold, halves, type Judged, separation } from "./label-metrics.js";
import { ablationRows } from "./label-quality-ablation.js";
import { report, stats } from "./lib.js";
import { wordMatch } from "./word-matching.js";

/** Vocabulary sizes tried on the shipped vectors, to show what trimming costs. */
const VOCABULARY_LIMITS = [10_000, 20_000, 30_000];

function judge(classifier: LocalClassifier, data: IntentDataSet, perCategory: number, timings?: number[]): Judged[] {
  const examples = corrections(data, perCategory);
  return data.test.map((q) => {
    const start = performance.now();
    const label = classifier.classify(q.text, data.categories, examples);
    timings?.push(performance.now() - start);
    return { right: label.categoryId === q.intent, confidence: label.confidence };
  });
}

function baselineAccuracy(data: IntentDataSet): number {
  return accuracyOf(
    data.test.map((q) => ({ right: wordMatch(q.text, data.categories)?.id === q.intent, confidence: 0 })),
  );
}

/** Loads the shipped vectors as a cold Lambda would: time and the memory they add. */
function initialise(): { classifier: LocalClassifier; init_ms: number; heap_mb: number; rss_mb: number } {
  const before = process.memoryUsage();
  const start = performance.now();
  const classifier = LocalClassifier.load();
  const init_ms = Math.round((performance.now() - start) * 10) / 10;
  const after = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  return { classifier, init_ms, heap_mb: mb(after.heapUsed - before.heapUsed), rss_mb: mb(after.rss - before.rss) };
}

function qualityRows(classifier: LocalClassifier, data: IntentDataSet, held: boolean, timings: number[]) {
  return CORRECTION_STEPS.map((n) => {
    const own: number[] = [];
    const labels = judge(classifier, data, n, own);
    timings.push(...own);
    return {
      data_set: data.name,
      set: held ? "held-out" : "development",
      corrections: n,
      accuracy: accuracyOf(labels),
      ...halves(labels),
      ...byThreshold(labels, DEFAULT_REVIEW_THRESHOLD),
      ...separation(labels),
      classify_ms_p50: stats(own).p50,
    };
  });
}

/** Accuracy with fewer words (and, given LQ_FULL_VECTORS, with the untrimmed float vectors). */
function trimmingRows(data: IntentDataSet) {
  const variants: { vectors: string; classifier: LocalClassifier }[] = VOCABULARY_LIMITS.map((limit) => ({
    vectors: `int8, ${limit / 1000}k words`,
    classifier: LocalClassifier.load(undefined, { vocabLimit: limit }),
  }));
  variants.push({ vectors: "int8, 50k words (shipped)", classifier: LocalClassifier.load() });
  const full = process.env.LQ_FULL_VECTORS;
  if (full) variants.push({ vectors: `float32, ${full}`, classifier: new LocalClassifier(loadVectors(full)) });
  return variants.map(({ vectors, classifier }) => ({
    data_set: data.name,
    vectors,
    zero_shot: accuracyOf(judge(classifier, data, 0)),
    after_10: accuracyOf(judge(classifier, data, 10)),
  }));
}

/**
 * Speed at the bound: 20 categories of the three data sets, each with 50 examples (its
 * questions, repeated when it has fewer), asked every test question of the development sets.
 */
export function scaleRow(classifier: LocalClassifier): Record<string, unknown> {
  const sets = [...DEVELOPMENT_SETS, ...HELD_OUT_SETS].map(loadIntentDataSet);
  const categories = [...new Map(sets.flatMap((s) => s.categories).map((c) => [c.id, c])).values()].slice(0, 20);
  const examples = categories.flatMap((c) => {
    const own = sets.flatMap((s) => [...s.train, ...s.val, ...s.test]).filter((q) => q.intent === c.id);
    return Array.from({ length: 50 }, (_, i) => ({ categoryId: c.id, question: own[i % own.length]?.text ?? c.name }));
  });
  const asked = sets.slice(0, DEVELOPMENT_SETS.length).flatMap((s) => s.test);
  const timings: number[] = [];
  // CPU time as well: on a shared machine the wall-clock tail is mostly waiting for a core.
  const cpuBefore = process.cpuUsage();
  for (const q of asked) {
    const start = performance.now();
    classifier.classify(q.text, categories, examples);
    timings.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = Math.round(((cpu.user + cpu.system) / 1000 / timings.length) * 1000) / 1000;
  return {
    categories: categories.length,
    examples: examples.length,
    questions: timings.length,
    cpu_ms_per_question: cpuMs,
    ...stats(timings),
  };
}

/**
 * `npm run bench label-quality-offline`: the local classifier on public intent data sets, without
 * the API: accuracy zero-shot and after 5, 10 and 20 corrections per category, how well its
 * confidence separates right from wrong, what trimming the vectors costs, and its speed.
 */
export async function benchLabelQualityOffline(): Promise<void> {
  const { classifier, ...init } = initialise();
  const timings: number[] = [];
  const sets = [...DEVELOPMENT_SETS.map((n) => ({ n, held: false })), ...HELD_OUT_SETS.map((n) => ({ n, held: true }))];
  const quality: Record<string, unknown>[] = [];
  const baseline: Record<string, number> = {};
  const trimming: Record<string, unknown>[] = [];
  for (const { n, held } of sets) {
    const data = loadIntentDataSet(n);
    quality.push(...qualityRows(classifier, data, held, timings));
    baseline[n] = baselineAccuracy(data);
    trimming.push(...trimmingRows(data));
  }
  const rows = quality.map((r) => ({ ...r, word_match_baseline: baseline[r.data_set as string] }));
  const scale = scaleRow(classifier);
  report("label-quality-offline: classify time, many categories and examples (ms)", [scale], { scale });
  const ablation = ablationRows();
  report("label-quality-offline: components (development sets, validation questions)", ablation, { ablation });
  report("label-quality-offline: trimming the vectors", trimming, { trimming });
  report("label-quality-offline", rows, {
    review_threshold: DEFAULT_REVIEW_THRESHOLD,
    quality: rows,
    word_match_baseline: baseline,
    init,
    classify_ms: stats(timings),
    scale,
    trimming,
  });
}
