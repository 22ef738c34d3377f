import { type Bag, dot } from "./embed.js";
import type { CategoryDocs } from "./score.js";

const quote = (text: string, max = 60) => (text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text);

/** The question's word that best matches a word of `to`, with that word. */
function bestPair(q: Bag, to: Bag, d: number): { asked: string; matched: string; sim: number } | undefined {
  let best: { asked: string; matched: string; sim: number } | undefined;
  for (let i = 0; i < q.words.length; i++) {
    for (let j = 0; j < to.words.length; j++) {
      const sim = dot(q.vecs, i * d, to.vecs, j * d, d) * (q.weights[i] as number);
      if (!best || sim > best.sim) best = { asked: q.words[i] as string, matched: to.words[j] as string, sim };
    }
  }
  return best;
}

/** One sentence for people: the nearest corrected example when there is one, else the words that matched. */
export function rationale(
  q: Bag,
  name: string,
  docs: CategoryDocs,
  exampleTexts: readonly string[],
  d: number,
): string {
  if (docs.examples.length > 0) {
    let at = 0;
    let best = Number.NEGATIVE_INFINITY;
    docs.examples.forEach((ex, i) => {
      const sim = dot(q.sentence, 0, ex.sentence, 0, d);
      if (sim > best) {
        best = sim;
        at = i;
      }
    });
    return `Most like "${quote(exampleTexts[at] ?? "")}", a question users labelled "${name}".`;
  }
  const pair = bestPair(q, docs.text, d);
  if (!pair) return `No word of the question is known, so "${name}" is a guess.`;
  const how = pair.asked === pair.matched ? `"${pair.asked}"` : `"${pair.asked}" (close to "${pair.matched}")`;
  return `The question's ${how} matches the name and description of "${name}".`;
}
