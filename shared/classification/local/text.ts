/** Lower-case word tokens; digits and punctuation carry no intent here. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+/g) ?? [];
}

// Function words and the assistant-directed fillers that every intent shares.
const STOP = new Set(
  (
    "a an the and or but if then so of to in on at by for with from into about as is are was were be been being am " +
    "do does did doing have has had having i me my mine myself you your yours we our us they them their it its this " +
    "that these those there here what which who whom whose when where why how can could would should will shall may " +
    "might must please tell know want need like just also any some all s t d ll m re ve not no yes hi hey hello okay ok " +
    "would let get got give make up out over very too than more most much many such only own same other again"
  ).split(" "),
);

export function isStopWord(word: string): boolean {
  return STOP.has(word);
}

/** A crude suffix stripper, enough for lexical matching of plurals and verb forms. */
export function stem(word: string): string {
  if (word.length > 5 && word.endsWith("ing")) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith("ed")) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}
