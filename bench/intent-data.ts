import { readFileSync } from "node:fs";
import type { CategoryInput, LabelExample } from "../shared/classification/local/types.js";

/** A labelled intent data set cut by scripts/intent-subsets.ts (see bench/data/<name>/README.md). */
export interface IntentDataSet {
  name: string;
  categories: CategoryInput[];
  /** Questions users correct: the first `n` of each intent become examples. */
  train: Question[];
  /** Questions for tuning and calibration (development sets only). */
  val: Question[];
  /** Questions asked as new threads. */
  test: Question[];
}

export interface Question {
  text: string;
  intent: string;
}

interface CategoryFile {
  intent: string;
  name: string;
  description: string;
}

export function loadIntentDataSet(name: string): IntentDataSet {
  const dir = new URL(`./data/${name}/`, import.meta.url);
  const questions = JSON.parse(readFileSync(new URL("questions.json", dir), "utf8")) as Record<string, Question[]>;
  const categories = JSON.parse(readFileSync(new URL("categories.json", dir), "utf8")) as CategoryFile[];
  return {
    name,
    categories: categories.map((c) => ({ id: c.intent, name: c.name, description: c.description })),
    train: questions.train ?? [],
    val: questions.val ?? [],
    test: questions.test ?? [],
  };
}

/** The first `perCategory` train questions of each category, as user corrections. */
export function corrections(data: IntentDataSet, perCategory: number): LabelExample[] {
  return data.categories.flatMap((c) =>
    data.train
      .filter((q) => q.intent === c.id)
      .slice(0, perCategory)
      .map((q) => ({ categoryId: c.id, question: q.text })),
  );
}

/** Data sets the method was developed on, and the one held out until the end. */
export const DEVELOPMENT_SETS = ["clinc150", "clinc150-banking"];
export const HELD_OUT_SETS = ["banking77"];
export const CORRECTION_STEPS = [0, 5, 10, 20];
