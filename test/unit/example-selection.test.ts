import { describe, expect, it } from "vitest";
import type { Classifier, LabelExample } from "../../shared/classification/classifier.js";
import { nearestExamples, withNearestExamples } from "../../shared/classification/example-selection.js";

const examples: LabelExample[] = [
  { categoryId: "cards", question: "My card was declined at the shop" },
  { categoryId: "billing", question: "Why was I charged twice?" },
  { categoryId: "cards", question: "How do I order a new card?" },
  { categoryId: "shipping", question: "Where is my parcel?" },
  { categoryId: "billing", question: "I was charged a fee for my card" },
];

describe("the k nearest examples", () => {
  it("ranks by the content words shared with the question, rarer words first", () => {
    const nearest = nearestExamples("Why was I charged for my declined card?", examples, 3);
    expect(nearest).toHaveLength(3);
    // Both share two words with the question; "declined" is rarer among the examples than "charged".
    expect(nearest.slice(0, 2).map((e) => e.question)).toEqual([
      "My card was declined at the shop",
      "I was charged a fee for my card",
    ]);
    expect(nearest.map((e) => e.question)).not.toContain("Where is my parcel?");
  });

  it("keeps every example when there are at most k, and the given order on ties", () => {
    expect(nearestExamples("anything", examples, 10)).toEqual(examples);
    expect(nearestExamples("nothing in common", examples, 2)).toEqual(examples.slice(0, 2));
  });

  it("hands the provider only the k nearest", async () => {
    const seen: number[] = [];
    const recording: Classifier = {
      async classify(_question, categories, given) {
        seen.push(given.length);
        return { categoryId: categories[0]?.id as string, confidence: 1, rationale: "First." };
      },
    };
    const categories = [{ id: "cards", name: "Cards", description: "" }];
    await withNearestExamples(recording, 2).classify("card declined", categories, examples);
    expect(seen).toEqual([2]);
  });
});
