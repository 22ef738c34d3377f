import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DomainError } from "../platform/errors.js";

export interface CategoryOption {
  id: string;
  name: string;
  description: string;
}

/** Chooses one of the project's categories for a thread's first question. */
export interface Classifier {
  classify(question: string, categories: readonly CategoryOption[]): Promise<CategoryOption>;
}

export class NoCategoriesError extends DomainError {
  override name = "NoCategoriesError";
  constructor() {
    super("cannot classify among zero categories");
  }
}

const words = (text: string) => new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? []);

/**
 * Stands in for an LLM classifier: after `delayMs` (a real one takes about 2 s) it picks the
 * category whose name and description share the most words with the question, and breaks ties
 * by a hash of the question, so the same question always gets the same label.
 */
export class DummyClassifier implements Classifier {
  /** @param failureRate share of calls that throw, as an overloaded model would (fault injection). */
  constructor(
    private readonly delayMs: number,
    private readonly failureRate = 0,
  ) {}

  async classify(question: string, categories: readonly CategoryOption[]): Promise<CategoryOption> {
    if (categories.length === 0) throw new NoCategoriesError();
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.failureRate > 0 && Math.random() < this.failureRate) throw new Error("classifier unavailable (injected)");
    const asked = words(question);
    const scored = categories.map((category) => {
      let score = 0;
      for (const w of words(`${category.name} ${category.description}`)) if (asked.has(w)) score++;
      return { category, score };
    });
    const best = Math.max(...scored.map((s) => s.score));
    const tied = scored.filter((s) => s.score === best).sort((a, b) => a.category.id.localeCompare(b.category.id));
    const pick = createHash("sha256").update(question).digest().readUInt32BE(0) % tied.length;
    return (tied[pick] ?? tied[0])?.category as CategoryOption;
  }
}
