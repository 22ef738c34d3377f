/**
 * Fits the local classifier's confidence (`Calibration` in shared/classification/local/classifier.ts)
 * on the validation splits of the development data sets, never on test questions nor on the
 * held-out set. First whether a question belongs to the best category at all (a logistic of its
 * absolute similarity): projects of two or three categories asked every question of the set, most
 * of which belong to none of them (bench/few-categories.ts), beside ten-category projects where
 * every question belongs. Then the margin's logistic, on the ten-category projects after 0, 5, 10
 * and 20 corrections, with the first factor fixed. `npx tsx scripts/fit-classifier-calibration.ts`
 * prints DEFAULT_OPTIONS.calibration, and SPREAD_FLOOR (which the fit reads: change it first).
 */
import { fewCategoryLabels } from "../bench/few-categories.js";
import { CORRECTION_STEPS, corrections, DEVELOPMENT_SETS, loadIntentDataSet } from "../bench/intent-data.js";
import { type Evidence, LocalClassifier, type SPREAD_FLOOR } from "../shared/classification/local/classifier.js";

interface Point {
  x: number[];
  y: number;
  weight: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Weighted logistic regression by Newton's method (x ends with a constant 1). */
function fitLogistic(points: readonly Point[]): number[] {
  const d = points[0]?.x.length ?? 0;
  const w = new Array<number>(d).fill(0);
  for (let step = 0; step < 100; step++) {
    const g = new Array<number>(d).fill(0);
    const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (const { x, y, weight } of points) {
      const p = sigmoid(x.reduce((s, xi, i) => s + xi * (w[i] as number), 0));
      x.forEach((xi, i) => {
        g[i] = (g[i] as number) + weight * (y - p) * xi;
        x.forEach((xj, j) => {
          const row = h[i] as number[];
          row[j] = (row[j] as number) + weight * p * (1 - p) * xi * xj;
        });
      });
    }
    // Gauss-Jordan on [h | g]: d is 3.
    const a = h.map((row, i) => [...row, g[i] as number]);
    for (let c = 0; c < d; c++) {
      const pivot = a[c] as number[];
      for (let r = 0; r < d; r++) {
        const row = a[r] as number[];
        if (r === c) continue;
        const f = (row[c] as number) / (pivot[c] as number);
        for (let k = c; k <= d; k++) row[k] = (row[k] as number) - f * (pivot[k] as number);
      }
    }
    let change = 0;
    a.forEach((row, i) => {
      const delta = (row[d] as number) / (row[i] as number);
      w[i] = (w[i] as number) + delta;
      change = Math.max(change, Math.abs(delta));
    });
    if (change < 1e-9) break;
  }
  return w;
}

const classifier = LocalClassifier.load();
const many: { evidence: Evidence; right: number }[] = [];
// SPREAD_FLOOR: each component's median standard deviation across the ten categories.
const spreads: Record<keyof typeof SPREAD_FLOOR, number[]> = { align: [], cloud: [], knn: [], lexical: [] };
const sd = (v: readonly number[]) => {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
};
const few: { evidence: Evidence; belongs: number }[] = [];
for (const name of DEVELOPMENT_SETS) {
  const data = loadIntentDataSet(name);
  for (const n of CORRECTION_STEPS) {
    const examples = corrections(data, n);
    for (const q of data.val) {
      const { best, evidence, parts } = classifier.score(q.text, data.categories, examples);
      for (const key of Object.keys(spreads) as (keyof typeof spreads)[]) spreads[key].push(sd(parts[key]));
      if (evidence) many.push({ evidence, right: data.categories[best]?.id === q.intent ? 1 : 0 });
    }
  }
  for (const k of [2, 3])
    for (const n of [0, 10])
      for (const l of fewCategoryLabels(classifier, data, "val", k, n))
        few.push({ evidence: l.evidence, belongs: l.inScope ? 1 : 0 });
}

// Does the question belong to the best category? Ten-category projects (every question belongs)
// weigh more than few-category ones: in a project of ten categories nearly every label is
// right, whatever its words, and the confidence must stay calibrated there.
const IN_SCOPE_WEIGHT = Number(process.env.IN_SCOPE_WEIGHT ?? 10);
const features = (e: Evidence) => [e.align, e.knn, 1];
const [align, knn, bias] = fitLogistic([
  ...few.map((p) => ({ x: features(p.evidence), y: p.belongs, weight: 1 / few.length })),
  ...many.map((p) => ({ x: features(p.evidence), y: 1, weight: IN_SCOPE_WEIGHT / many.length })),
]) as [number, number, number];
const round = (x: number) => Math.round(x * 100) / 100;
const belongs = { align: round(align), knn: round(knn), bias: round(bias) };

// The margin's logistic with that factor fixed: the likelihood of right and wrong labels over a grid.
let margin = { a: 0, b: 0 };
let bestLikelihood = Number.NEGATIVE_INFINITY;
for (let a = 0.05; a <= 2; a += 0.01)
  for (let b = -4; b <= 4; b += 0.01) {
    let likelihood = 0;
    for (const { evidence: e, right } of many) {
      const p = sigmoid(a * e.margin + b) * sigmoid(belongs.align * e.align + belongs.knn * e.knn + belongs.bias);
      likelihood += Math.log(Math.min(1 - 1e-12, Math.max(1e-12, right ? p : 1 - p)));
    }
    if (likelihood > bestLikelihood) {
      bestLikelihood = likelihood;
      margin = { a: round(a), b: round(b) };
    }
  }
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor((v.length - 1) / 2)] as number;
const spreadFloor = Object.fromEntries(
  Object.entries(spreads).map(([key, v]) => [key, Math.round(median(v) * 1000) / 1000]),
);
process.stdout.write(
  `${JSON.stringify({ spreadFloor, margin, belongs, points: { ten_categories: many.length, few_categories: few.length } })}\n`,
);
