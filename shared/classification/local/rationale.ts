import type { Bag } from "./embed.js";
import { dot, type QuestionView } from "./embed.js";
import type { CategoryDocs } from "./score.js";

const quote = (text: string, max = 60) => (text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text);

/** The question's word that best matches a word of `to`, with that word. */
function bestPair(view: QuestionView, to: Bag): { asked: string; matched: string; sim: number } | undefined {
  let best: { asked: string; matched: string; sim: number } | undefined;
  to.rows.forEach((row, j) => {
    view.column(row).forEach((cos, i) => {
      const sim = cos * (view.q.weights[i] as number);
      if (!best || sim > best.sim) best = { asked: view.q.words[i] as string, matched: to.words[j] as string, sim };
    });
  });
  return best;
}

/** One sentence for people: the nearest corrected example when there is one, else the words that matched. */
export function rationale(
  view: QuestionView,
  name: string,
  docs: CategoryDocs,
  exampleTexts: readonly string[],
): string {
  const q = view.q;
  const d = q.sentence.length;
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
  const pair = bestPair(view, docs.text);
  if (!pair) return `No word of the question is known, so "${name}" is a guess.`;
  const how = pair.asked === pair.matched ? `"${pair.asked}"` : `"${pair.asked}" (close to "${pair.matched}")`;
  return `The question's ${how} matches the name and description of "${name}".`;
}
