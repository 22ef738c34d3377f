import { beforeAll, describe, expect, it } from "vitest";
import { corrections, type IntentDataSet, loadIntentDataSet } from "../../bench/intent-data.js";
import { DEFAULT_CATEGORIES } from "../../shared/categories/defaults.js";
import { DEFAULT_REVIEW_THRESHOLD } from "../../shared/classification/classifier.js";
import { LocalClassifier, NoCategoriesError } from "../../shared/classification/local/index.js";
import { decodeVectors, encodeVectors } from "../../shared/classification/local/vectors.js";

// The development set of bench/data (never the held-out one), its validation split.
let data: IntentDataSet;
let classifier: LocalClassifier;

beforeAll(() => {
  data = loadIntentDataSet("clinc150-banking");
  classifier = LocalClassifier.load();
});

const accuracy = (perCategory: number) => {
  const examples = corrections(data, perCategory);
  const right = data.val.filter((q) => classifier.classify(q.text, data.categories, examples).categoryId === q.intent);
  return right.length / data.val.length;
};

describe("local classifier", () => {
  it("gives the same label, confidence and rationale for the same input, also from a fresh instance", () => {
    const examples = corrections(data, 5);
    const questions = data.val.slice(0, 40).map((q) => q.text);
    const first = questions.map((q) => classifier.classify(q, data.categories, examples));
    const again = LocalClassifier.load();
    expect(questions.map((q) => again.classify(q, data.categories, examples))).toEqual(first);
    expect(questions.map((q) => classifier.classify(q, data.categories, examples))).toEqual(first);
  });

  it("always names one of the given categories, with a confidence in [0, 1] and a one-sentence rationale", () => {
    // Every question against shrinking subsets of the categories, with and without examples.
    for (const [i, q] of data.val.entries()) {
      const categories = data.categories.slice(i % 7, (i % 7) + 2 + (i % 5));
      const examples = i % 2 === 0 ? [] : corrections(data, 3);
      const label = classifier.classify(q.text, categories, examples);
      expect(categories.map((c) => c.id)).toContain(label.categoryId);
      expect(label.confidence).toBeGreaterThanOrEqual(0);
      expect(label.confidence).toBeLessThanOrEqual(1);
      expect(label.rationale).toMatch(/^[A-Z"].*\.$/);
    }
  });

  it("learns from corrections: ten per category label more of the real questions right", () => {
    const zeroShot = accuracy(0);
    const corrected = accuracy(10);
    expect(corrected).toBeGreaterThan(zeroShot + 0.03);
    // Some question zero-shot gets wrong is right once the examples are there.
    const examples = corrections(data, 10);
    const moved = data.val.filter(
      (q) =>
        classifier.classify(q.text, data.categories, []).categoryId !== q.intent &&
        classifier.classify(q.text, data.categories, examples).categoryId === q.intent,
    );
    expect(moved.length).toBeGreaterThan(0);
  });

  it("cites the nearest corrected example once a category has examples", () => {
    const examples = corrections(data, 10);
    const q = data.val[0];
    if (!q) throw new Error("no validation questions");
    const label = classifier.classify(q.text, data.categories, examples);
    const cited = examples.filter((e) => e.categoryId === label.categoryId).map((e) => e.question);
    expect(cited.some((text) => label.rationale.includes(text.slice(0, 20)))).toBe(true);
  });

  it("is more confident where it is right", () => {
    const examples = corrections(data, 5);
    const labels = data.val.map((q) => {
      const label = classifier.classify(q.text, data.categories, examples);
      return { right: label.categoryId === q.intent, confidence: label.confidence };
    });
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const right = mean(labels.filter((l) => l.right).map((l) => l.confidence));
    const wrong = mean(labels.filter((l) => !l.right).map((l) => l.confidence));
    expect(right).toBeGreaterThan(wrong);
  });

  it("refuses zero categories, and is certain with one", () => {
    expect(() => classifier.classify("what is my balance", [], [])).toThrow(NoCategoriesError);
    const only = data.categories[0];
    if (!only) throw new Error("no categories");
    expect(classifier.classify("what is my balance", [only], [])).toMatchObject({ categoryId: only.id, confidence: 1 });
  });

  it("labels questions without a known word, and ignores examples of other categories", () => {
    const examples = [{ categoryId: "not-a-category", question: "what is my balance" }];
    for (const text of ["", "?!", "zzqxv blorptang"]) {
      const label = classifier.classify(text, data.categories, examples);
      expect(data.categories.map((c) => c.id)).toContain(label.categoryId);
      expect(Number.isFinite(label.confidence)).toBe(true);
    }
  });
});

// Issue 25: the demo project's two categories labelled "How do I create an API key?" with 0.99,
// wrongly. With two categories the z-scored margin saturates whatever the question.
describe("local classifier with few categories: the confidence still separates right from wrong", () => {
  const share = (xs: readonly number[], pass: (x: number) => boolean) => xs.filter(pass).length / xs.length;
  const confident = (x: number) => x >= DEFAULT_REVIEW_THRESHOLD;

  it("real questions about neither of the two default categories mostly go to review", () => {
    const defaults = DEFAULT_CATEGORIES.map((c, i) => ({ id: `default-${i}`, ...c }));
    // CLINC150's test questions: reservations, songs, dice, time off... no product's how-to or bug.
    const confidences = loadIntentDataSet("clinc150").test.map(
      (q) => classifier.classify(q.text, defaults, []).confidence,
    );
    expect(confidences.length).toBeGreaterThan(100);
    expect(share(confidences, confident)).toBeLessThan(0.35);
  });

  it("two of a data set's categories: questions of neither are below the threshold, theirs above", () => {
    const set = loadIntentDataSet("clinc150");
    const right: number[] = [];
    const wrong: number[] = [];
    set.categories.forEach((first, i) => {
      const pair = [first, set.categories[(i + 1) % set.categories.length] ?? first];
      for (const q of set.test) {
        const label = classifier.classify(q.text, pair, []);
        (label.categoryId === q.intent ? right : wrong).push(label.confidence);
      }
    });
    expect(share(wrong, confident)).toBeLessThan(0.5);
    expect(share(right, confident)).toBeGreaterThan(0.9);
  });
});

describe("word-vector file", () => {
  it("round-trips words and unit vectors through the binary format, within a byte's precision", () => {
    const rows = [
      [3, 4, 0],
      [0, 0, -2],
    ];
    const float = decodeVectors(encodeVectors(["alpha", "beta"], rows, 3, "float32"));
    expect([...float.data]).toEqual([0.6, 0.8, 0, 0, 0, -1].map((x) => Math.fround(x)));
    const bytes = decodeVectors(encodeVectors(["alpha", "beta"], rows, 3, "int8"));
    expect(bytes.index.get("beta")).toBe(1);
    bytes.data.forEach((x, i) => {
      expect(Math.abs(x - (float.data[i] as number))).toBeLessThan(1 / 127);
    });
    expect(() => decodeVectors(Buffer.from("nope"))).toThrow(/magic/);
  });
});
