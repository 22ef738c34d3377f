import { DEFAULT_OPTIONS, LocalClassifier } from "../shared/classification/local/classifier.js";
import type { ScoreWeights } from "../shared/classification/local/score.js";
import { corrections, DEVELOPMENT_SETS, loadIntentDataSet } from "./intent-data.js";

type Variant = { variant: string; weights: ScoreWeights };

/** Each score component alone, and the default without each one. */
function variants(): Variant[] {
  const keys = Object.keys(DEFAULT_OPTIONS.weights) as (keyof ScoreWeights)[];
  const none = Object.fromEntries(keys.map((k) => [k, 0])) as unknown as ScoreWeights;
  return [
    { variant: "default", weights: DEFAULT_OPTIONS.weights },
    ...keys.map((k) => ({ variant: `${k} alone`, weights: { ...none, [k]: 1 } })),
    ...keys.map((k) => ({ variant: `without ${k}`, weights: { ...DEFAULT_OPTIONS.weights, [k]: 0 } })),
  ];
}

/**
 * Accuracy of the method's variants on the development sets' validation questions (the split the
 * weights were chosen on), zero-shot and after 10 corrections per category.
 */
export function ablationRows(): Record<string, unknown>[] {
  const sets = DEVELOPMENT_SETS.map(loadIntentDataSet);
  return variants().map(({ variant, weights }) => {
    const classifier = LocalClassifier.load(undefined, { weights });
    const row: Record<string, unknown> = { variant };
    for (const data of sets) {
      for (const n of [0, 10]) {
        const examples = corrections(data, n);
        const right = data.val.filter(
          (q) => classifier.classify(q.text, data.categories, examples).categoryId === q.intent,
        );
        row[`${data.name}_${n}`] = Math.round((right.length / data.val.length) * 1000) / 1000;
      }
    }
    return row;
  });
}
