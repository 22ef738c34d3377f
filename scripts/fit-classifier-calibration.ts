/**
 * Fits the local classifier's confidence (a logistic of the margin between the two best scores)
 * on the validation splits of the development data sets, never on test questions nor on the
 * held-out set. `npx tsx scripts/fit-classifier-calibration.ts` prints `a` and `b` for
 * DEFAULT_OPTIONS.calibration.
 */
import { CORRECTION_STEPS, corrections, DEVELOPMENT_SETS, loadIntentDataSet } from "../bench/intent-data.js";
import { LocalClassifier } from "../shared/classification/local/classifier.js";

const classifier = LocalClassifier.load();
const points: { margin: number; right: number }[] = [];
for (const name of DEVELOPMENT_SETS) {
  const data = loadIntentDataSet(name);
  for (const n of CORRECTION_STEPS) {
    const examples = corrections(data, n);
    for (const q of data.val) {
      const { best, margin } = classifier.score(q.text, data.categories, examples);
      points.push({ margin, right: data.categories[best]?.id === q.intent ? 1 : 0 });
    }
  }
}
// Newton's method on the log-likelihood of two parameters.
let a = 0;
let b = 0;
for (let step = 0; step < 50; step++) {
  let ga = 0;
  let gb = 0;
  let haa = 0;
  let hab = 0;
  let hbb = 0;
  for (const { margin, right } of points) {
    const p = 1 / (1 + Math.exp(-(a * margin + b)));
    const w = p * (1 - p);
    ga += (right - p) * margin;
    gb += right - p;
    haa += w * margin * margin;
    hab += w * margin;
    hbb += w;
  }
  const det = haa * hbb - hab * hab;
  if (Math.abs(det) < 1e-12) break;
  a += (hbb * ga - hab * gb) / det;
  b += (haa * gb - hab * ga) / det;
}
const round = (x: number) => Math.round(x * 100) / 100;
process.stdout.write(`${JSON.stringify({ a: round(a), b: round(b), points: points.length })}\n`);
