/**
 * Seeded generators of hostile input for the fuzzer (test/reliability/fuzz.test.ts): a failing
 * run is replayed with its seed. Beyond random junk, they aim at the classes that once reached
 * Postgres and came back as 500s: Unicode it cannot store, dates outside its range, forged cursors.
 */

/** mulberry32: a small seeded PRNG. */
export function prng(start: number) {
  let a = start >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

export function generators(random: Random) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (max: number) => Math.floor(random() * max);

  /** Code points and sequences that break encoders, collations and Postgres text. */
  const UNICODE_EDGES = [
    "\u0000", // NUL: Postgres text cannot hold it
    "\uD800", // lone high surrogate
    "\uDFFF", // lone low surrogate
    "\uDBFF\uDFFF", // the last code point, U+10FFFF
    "\uFEFF", // byte order mark
    "\u202E", // right-to-left override
    "e\u0301", // combining accent
    "\u200B", // zero-width space
    "\uFFFF", // a noncharacter
    "😀👍🏽👨‍👩‍👧", // astral, skin tone, ZWJ sequence
    "\u0085\u2028\u2029", // line separators
    "\x1B[31m", // an ANSI escape
  ];

  function unicodeEdge(): string {
    const parts = Array.from({ length: 1 + int(4) }, () => (random() < 0.5 ? pick(UNICODE_EDGES) : "text"));
    return parts.join(random() < 0.5 ? "" : " ");
  }

  /** Date-time strings around and beyond what Postgres and ISO 8601 accept. */
  function dateString(): string {
    const years = ["0000", "0001", "1969", "2026", "9999", "10000", "+010000", "-000001", "-4713", "294277"];
    const days = ["01-01", "02-29", "02-30", "12-31", "13-01", "00-00"];
    const times = [
      "T00:00:00Z",
      "T23:59:60Z",
      "T24:00:00Z",
      "T12:00:00+14:00",
      "T00:00:00-12:00",
      "T00:00:00.123456789Z",
      "",
    ];
    if (random() < 0.2) return pick(["now", "infinity", "-infinity", "epoch", "1e309", "", "2026-01-01 00:00:00"]);
    return `${pick(years)}-${pick(days)}${pick(times)}`;
  }

  /** Cursors: well-formed ones with times out of range, and forged or corrupted ones. */
  function cursor(): string {
    const millis = pick([
      "0",
      "-62167219200000", // year 0
      "253402300800000", // year 10000
      "8640000000000001", // beyond JS dates
      "9007199254740993", // beyond safe integers
      "-1e20",
      "NaN",
      "1.5",
      String(int(2_000_000_000_000)),
    ]);
    const dir = pick(["n", "p", "x", ""]);
    const id = random() < 0.8 ? crypto.randomUUID() : pick(["", "not-a-uuid", "\u0000", "'; drop table threads; --"]);
    const raw = random() < 0.1 ? unicodeEdge() : `${dir}|${millis}|${id}${random() < 0.1 ? "|extra" : ""}`;
    return Buffer.from(raw).toString(random() < 0.9 ? "base64url" : "base64");
  }

  /** A body of the right shape for the route's fields, with hostile values, so it reaches the database. */
  function plausibleBody(): Record<string, unknown> {
    return pick([
      () => ({ question: unicodeEdge() }),
      () => ({ question: unicodeEdge(), thread_id: crypto.randomUUID() }),
      () => ({ name: unicodeEdge(), description: unicodeEdge() }),
      () => ({ name: `n ${int(1e9)}`, description: unicodeEdge() }),
      () => ({ category_id: random() < 0.5 ? crypto.randomUUID() : null }),
      () => ({ scope: pick(["unlabelled", "classifier", unicodeEdge()]) }),
    ])();
  }

  return { pick, int, unicodeEdge, dateString, cursor, plausibleBody };
}
