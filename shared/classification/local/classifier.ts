import { fileURLToPath } from "node:url";
import { NoCategoriesError } from "../classifier.js";
import { type Bag, ColumnCache, embed, QuestionView } from "./embed.js";
import { rationale } from "./rationale.js";
import {
  type CategoryDocs,
  type Components,
  categoryDocs,
  combine,
  components,
  type ScoreWeights,
  spread,
} from "./score.js";
import type { CategoryInput, Classification, LabelExample } from "./types.js";
import { loadVectors, type WordVectors } from "./vectors.js";

export interface LocalOptions {
  weights: ScoreWeights;
  /** How the evidence maps to a confidence (fitted by scripts/fit-classifier-calibration.ts). */
  calibration: Calibration;
  /** Words ranked beyond this are ignored (to measure what a smaller vocabulary costs). */
  vocabLimit: number;
}

// Chosen on the validation splits of the development data sets (docs/classification.md).
export const DEFAULT_OPTIONS: LocalOptions = {
  weights: { align: 1, cloud: 2, knn: 2, lexical: 1 },
  calibration: { margin: { a: 0.67, b: -0.53 }, belongs: { align: 9.87, knn: 4.22, bias: -7.51 } },
  vocabLimit: Number.POSITIVE_INFINITY,
};

/** The word vectors shipped beside this module (built by scripts/trim-vectors.ts). */
export const DEFAULT_VECTORS_PATH = fileURLToPath(new URL("./data/glove-50k-int8.bin", import.meta.url));

const CACHE_SIZE = 20_000;

/** A bounded memo: the oldest entry goes when it is full. */
function cached<T>(memo: Map<string, T>, key: string, make: () => T): T {
  let value = memo.get(key);
  if (value === undefined) {
    value = make();
    if (memo.size >= CACHE_SIZE) memo.delete(memo.keys().next().value as string);
    memo.set(key, value);
  }
  return value;
}

/**
 * What the confidence reads. The combined score's z-scores across the categories tell how the best
 * stands out among many categories but saturate with few: with two, every component's z-scores
 * are -1 and +1 however alike the two are, and however unrelated the question is to both. So the
 * lead is measured against a floored spread, and the confidence also asks whether the question
 * belongs to the best category at all, from absolute similarities that do not depend on how many
 * categories there are.
 */
export interface Evidence {
  /** The best category's lead over the second best (flooredMargin). */
  margin: number;
  /** How well the question's words are covered by the best category's text, and by its nearest examples. */
  align: number;
  knn: number;
}

/**
 * confidence = P(the best of the categories | it is one of them) x P(it is one of them):
 * 1/(1+e^-(a*margin+b)) x 1/(1+e^-(align*w.align + knn*w.knn + bias)).
 */
export interface Calibration {
  margin: { a: number; b: number };
  belongs: { align: number; knn: number; bias: number };
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The typical spread of each component across ten categories (the median over the development
 * sets' validation questions of its standard deviation across the categories): the smallest unit
 * the confidence measures a lead in. Fewer categories, or categories the question hardly touches,
 * spread less, and a lead within that spread is no evidence.
 */
export const SPREAD_FLOOR: ScoreWeights = { align: 0.09, cloud: 0.096, knn: 0.081, lexical: 1.69 };

/** The best category's lead over the second in each component, in units of max(its spread, the floor), weighted. */
function flooredMargin(parts: Components, weights: ScoreWeights, best: number, second: number): number {
  let margin = 0;
  for (const key of Object.keys(weights) as (keyof ScoreWeights)[]) {
    const values = parts[key];
    const { sd } = spread(values);
    margin +=
      (weights[key] * ((values[best] as number) - (values[second] as number))) / Math.max(sd, SPREAD_FLOOR[key]);
  }
  return margin;
}

export interface Scored {
  scores: number[];
  /** Each component's raw score per category, before standardizing. */
  parts: Components;
  /** The best category's index, then the margin of its score over the second best. */
  best: number;
  margin: number;
  /** Undefined with a single category. */
  evidence?: Evidence;
}

/**
 * The embedded classifier: smooth-inverse-frequency word vectors aligned word by word with each
 * category's name, description and examples, nearest examples and BM25, as z-scores across the
 * categories. Deterministic and without I/O once the vectors are loaded.
 */
export class LocalClassifier {
  private readonly options: LocalOptions;

  private readonly columns: ColumnCache;

  constructor(
    private readonly vectors: WordVectors,
    options: Partial<LocalOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.columns = new ColumnCache(vectors);
  }

  static load(path = DEFAULT_VECTORS_PATH, options: Partial<LocalOptions> = {}): LocalClassifier {
    return new LocalClassifier(loadVectors(path), options);
  }

  // Category texts and examples come back with every question: each is embedded and indexed once.
  private readonly bags = new Map<string, Bag>();

  private readonly categories = new Map<string, CategoryDocs>();

  private bag(text: string): Bag {
    return cached(this.bags, text, () => embed(text, this.vectors, this.options.vocabLimit));
  }

  // The pipeline hands a batch's questions of one project the same two arrays: their documents
  // are looked up once per batch, not rebuilt (and their long keys hashed) per question.
  private readonly docsOf = new WeakMap<readonly LabelExample[], WeakMap<readonly CategoryInput[], CategoryDocs[]>>();

  private docs(categories: readonly CategoryInput[], examples: readonly LabelExample[]): CategoryDocs[] {
    let byCategories = this.docsOf.get(examples);
    if (!byCategories) {
      byCategories = new WeakMap();
      this.docsOf.set(examples, byCategories);
    }
    let docs = byCategories.get(categories);
    if (!docs) {
      docs = this.buildDocs(categories, examples);
      byCategories.set(categories, docs);
    }
    return docs;
  }

  private buildDocs(categories: readonly CategoryInput[], examples: readonly LabelExample[]): CategoryDocs[] {
    const texts = new Map<string, string[]>(categories.map((c) => [c.id, []]));
    for (const e of examples) texts.get(e.categoryId)?.push(e.question);
    return categories.map((c) => {
      const own = texts.get(c.id) ?? [];
      const key = [c.name, c.description, ...own].join("\u0000");
      return cached(this.categories, key, () =>
        categoryDocs(
          this.bag(c.name),
          this.bag(`${c.name}. ${c.description}`),
          own.map((q) => this.bag(q)),
        ),
      );
    });
  }

  private rank(view: QuestionView, docs: readonly CategoryDocs[]): Scored {
    const parts = components(view, docs);
    const scores = combine(parts, this.options.weights);
    // The first highest score, and the first highest of the others.
    let best = 0;
    let second = -1;
    for (let i = 1; i < scores.length; i++) {
      const s = scores[i] as number;
      if (s > (scores[best] as number)) {
        second = best;
        best = i;
      } else if (second < 0 || s > (scores[second] as number)) second = i;
    }
    if (second < 0) return { scores, parts, best, margin: Number.POSITIVE_INFINITY };
    const margin = (scores[best] as number) - (scores[second] as number);
    const at = (values: number[], i: number) => values[i] as number;
    const evidence: Evidence = {
      margin: flooredMargin(parts, this.options.weights, best, second),
      align: at(parts.align, best),
      knn: at(parts.knn, best),
    };
    return { scores, parts, best, margin, evidence };
  }

  /** Every category's combined score (higher is better), for calibration and the benchmark. */
  score(question: string, categories: readonly CategoryInput[], examples: readonly LabelExample[]): Scored {
    return this.rank(
      new QuestionView(embed(question, this.vectors, this.options.vocabLimit), this.columns),
      this.docs(categories, examples),
    );
  }

  /** The confidence the evidence maps to (a single category is certain: there is no other label). */
  confidence(evidence: Evidence | undefined): number {
    if (!evidence) return 1;
    const { margin, belongs } = this.options.calibration;
    return (
      logistic(margin.a * evidence.margin + margin.b) *
      logistic(belongs.align * evidence.align + belongs.knn * evidence.knn + belongs.bias)
    );
  }

  classify(question: string, categories: readonly CategoryInput[], examples: readonly LabelExample[]): Classification {
    if (categories.length === 0) throw new NoCategoriesError();
    const view = new QuestionView(embed(question, this.vectors, this.options.vocabLimit), this.columns);
    const docs = this.docs(categories, examples);
    const { best, evidence } = this.rank(view, docs);
    const category = categories[best] as CategoryInput;
    const texts = examples.filter((e) => e.categoryId === category.id).map((e) => e.question);
    return {
      categoryId: category.id,
      confidence: this.confidence(evidence),
      rationale: rationale(view, category.name, docs[best] as CategoryDocs, texts),
    };
  }
}
