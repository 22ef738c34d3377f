/** One label the classifier gave, judged against the data set. */
export interface Judged {
  right: boolean;
  confidence: number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const accuracy = (labels: readonly Judged[]) =>
  labels.length === 0 ? Number.NaN : round(labels.filter((l) => l.right).length / labels.length);

/**
 * Accuracy of the more and the less confident half of the labels. `best_gap` is the largest gap
 * any ranking could reach with these errors (all of them in the less confident half): a very
 * accurate classifier cannot show a large gap.
 */
export function halves(labels: readonly Judged[]): Record<string, number> {
  const sorted = labels.map((l, i) => ({ l, i })).sort((x, y) => y.l.confidence - x.l.confidence || x.i - y.i);
  const half = Math.floor(sorted.length / 2);
  const confident = accuracy(sorted.slice(0, half).map((s) => s.l));
  const less = accuracy(sorted.slice(half).map((s) => s.l));
  const errors = labels.filter((l) => !l.right).length;
  return {
    confident_half: confident,
    less_confident_half: less,
    half_gap: round(confident - less),
    best_gap: round(Math.min(errors, sorted.length - half) / (sorted.length - half)),
  };
}

/** Accuracy of the labels at or above a review threshold, and below it (the ones a review queue shows). */
export function byThreshold(labels: readonly Judged[], threshold: number): Record<string, number> {
  const below = labels.filter((l) => l.confidence < threshold);
  return {
    above_threshold: accuracy(labels.filter((l) => l.confidence >= threshold)),
    below_threshold: accuracy(below),
    share_below: round(below.length / Math.max(1, labels.length)),
  };
}

/**
 * Accuracy-independent separation and calibration: `auc`, the chance that a right label has a
 * higher confidence than a wrong one (0.5 is no separation), and `ece`, the mean gap between
 * confidence and accuracy over ten confidence bins, weighted by their size.
 */
export function separation(labels: readonly Judged[]): Record<string, number> {
  const right = labels.filter((l) => l.right).map((l) => l.confidence);
  const wrong = labels.filter((l) => !l.right).map((l) => l.confidence);
  let wins = 0;
  for (const r of right) for (const w of wrong) wins += r > w ? 1 : r === w ? 0.5 : 0;
  const auc = right.length && wrong.length ? wins / (right.length * wrong.length) : Number.NaN;
  let ece = 0;
  for (let bin = 0; bin < 10; bin++) {
    const inBin = labels.filter((l) => Math.min(9, Math.floor(l.confidence * 10)) === bin);
    if (inBin.length === 0) continue;
    const meanConfidence = inBin.reduce((s, l) => s + l.confidence, 0) / inBin.length;
    const hits = inBin.filter((l) => l.right).length / inBin.length;
    ece += (inBin.length / labels.length) * Math.abs(meanConfidence - hits);
  }
  return { auc: round(auc), ece: round(ece) };
}

export function accuracyOf(labels: readonly Judged[]): number {
  return accuracy(labels);
}
