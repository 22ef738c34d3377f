/**
 * What Postgres can store, checked before a value reaches it (else a data exception, class 22).
 *
 * Timestamps: years 1 to 9999. Postgres has no year 0 and its own range ends in 294276, but ISO
 * 8601 strings (what clients send and what the API returns) have four-digit years.
 */
/** Date.UTC maps years 0..99 to 1900..1999: year 1 is set with setUTCFullYear. */
export const MIN_STORABLE_TIME = new Date(0).setUTCFullYear(1, 0, 1);
export const MAX_STORABLE_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function isStorableDate(date: Date): boolean {
  const time = date.getTime();
  return Number.isFinite(time) && time >= MIN_STORABLE_TIME && time <= MAX_STORABLE_TIME;
}

export const STORABLE_DATE_RANGE = "between 0001-01-01 and 9999-12-31";

/** Postgres text cannot hold the NUL character (U+0000). */
export const hasNul = (text: string): boolean => text.includes("\u0000");

/**
 * The text as stored: a lone surrogate (half of a UTF-16 pair) cannot be encoded in UTF-8 and
 * would be stored as U+FFFD while the reply echoed it; replace it first, so what is answered is
 * what is stored.
 */
export const wellFormed = (text: string): string =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
