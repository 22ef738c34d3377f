import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Classifier } from "../../shared/classification/classifier.js";
import { DEFAULT_VECTORS_PATH } from "../../shared/classification/local/classifier.js";
import { localClassifier, withHostedCost } from "../../shared/classification/providers.js";

const categories = [
  { id: "d", name: "Discovery", description: "A user is trying to figure out how to do something" },
  { id: "t", name: "Troubleshooting", description: "A user is asking for help with a problem" },
];
const dir = mkdtempSync(path.join(tmpdir(), "kapa-vectors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the local provider", () => {
  it("reads its vectors at the first classification, and tries again after a failed read", async () => {
    const file = path.join(dir, "vectors.bin");
    // Creating the classifier reads nothing: the file does not exist yet.
    const classifier = localClassifier(file);
    await expect(classifier.classify("It crashes with an error", categories, [])).rejects.toThrow(/ENOENT/);
    copyFileSync(DEFAULT_VECTORS_PATH, file);
    const label = await classifier.classify("It crashes with an error", categories, []);
    expect(label.categoryId).toBe("t");
    expect(label.confidence).toBeGreaterThanOrEqual(0);
    expect(label.confidence).toBeLessThanOrEqual(1);
    expect(label.rationale).toMatch(/Troubleshooting/);
  });
});

describe("a hosted model's cost", () => {
  const fixed: Classifier = { classify: async () => ({ categoryId: "d", confidence: 0.5, rationale: "Fixed." }) };

  it("fails the share of calls it is told to", async () => {
    await expect(withHostedCost(fixed, 0, 1).classify("q", categories, [])).rejects.toThrow(/injected/);
    expect(await withHostedCost(fixed, 1, 0).classify("q", categories, [])).toMatchObject({ categoryId: "d" });
  });
});
