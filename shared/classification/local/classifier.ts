import { fileURLToPath } from "node:url";
import { NoCategoriesError } from "../classifier.js";
import { type Bag, embed, QuestionView } from "./embed.js";
import { rationale } from "./rationale.js";
import { type CategoryDocs, categoryDocs, combine, components, NOISE_SPREAD, type ScoreWeights } from "./score.js";
import type { CategoryInput, Classification, LabelExample } from "./types.js";
import { loadVectors, type WordVectors } from "./vectors.js";

export interface LocalOptions {
  weights: ScoreWeights;
  /** Logistic calibration of the margin between the two best scores: confidence = 1/(1+e^-(a*margin+b)). */
  calibration: { a: number; b: number };
  /** Spreads below which a component's differences are noise (score.ts NOISE_SPREAD; zeros: plain z-scores). */
  noise: ScoreWeights;
  /** Words ranked beyond this are ignored (to measure what a smaller vocabulary costs). */
  vocabLimit: number;
}

// Chosen on the validation splits of the development data sets (docs/classification.md).
export const DEFAULT_OPTIONS: LocalOptions = {
  weights: { align: 1, cloud: 2, knn: 2, lexical: 1 },
  calibration: { a: 0.5, b: -0.63 },
  noise: NOISE_SPREAD,
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

export interface Scored {
  scores: number[];
  /** The best category's index, then the margin of its score over the second best. */
  best: number;
  margin: number;
}

/**
 * The embedded classifier: smooth-inverse-frequency word vectors aligned word by word with each
 * category's name, description and examples, nearest examples and BM25, as z-scores across the
 * categories. Deterministic and without I/O once the vectors are loaded.
 */
export class LocalClassifier {
  private readonly options: LocalOptions;

  constructor(
    private readonly vectors: WordVectors,
    options: Partial<LocalOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
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
    const scores = combine(components(view, docs), this.options.weights, this.options.noise);
    let best = 0;
    scores.forEach((s, i) => {
      if (s > (scores[best] as number)) best = i;
    });
    const second = Math.max(Number.NEGATIVE_INFINITY, ...scores.filter((_, i) => i !== best));
    return { scores, best, margin: (scores[best] as number) - second };
  }

  /** Every category's combined score (higher is better), for calibration and the benchmark. */
  score(question: string, categories: readonly CategoryInput[], examples: readonly LabelExample[]): Scored {
    return this.rank(
      new QuestionView(embed(question, this.vectors, this.options.vocabLimit), this.vectors),
      this.docs(categories, examples),
    );
  }

  /** The confidence a margin maps to (a single category is certain). */
  confidence(margin: number): number {
    if (!Number.isFinite(margin)) return 1;
    const { a, b } = this.options.calibration;
    return 1 / (1 + Math.exp(-(a * margin + b)));
  }

  classify(question: string, categories: readonly CategoryInput[], examples: readonly LabelExample[]): Classification {
    if (categories.length === 0) throw new NoCategoriesError();
    const view = new QuestionView(embed(question, this.vectors, this.options.vocabLimit), this.vectors);
    const docs = this.docs(categories, examples);
    const { best, margin } = this.rank(view, docs);
    const category = categories[best] as CategoryInput;
    const texts = examples.filter((e) => e.categoryId === category.id).map((e) => e.question);
    return {
      categoryId: category.id,
      confidence: this.confidence(margin),
      rationale: rationale(view, category.name, docs[best] as CategoryDocs, texts),
    };
  }
}
