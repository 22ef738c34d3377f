import { InvalidInputError } from "../platform/errors.js";

/**
 * A report period: one ISO 8601 week, `YYYY-Www`, from Monday 00:00 UTC (inclusive) to the next
 * Monday 00:00 UTC (exclusive). Weeks are numbered within the ISO week-year, which starts on the
 * Monday of the week that holds January 4th: 2027-01-01 is a Friday in 2026-W53.
 */
export interface Period {
  /** `YYYY-Www`, the key of a report run. */
  id: string;
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const PERIOD_ID = /^(\d{4})-W(\d{2})$/;

/** Monday = 0 ... Sunday = 6. */
const isoWeekday = (date: Date) => (date.getUTCDay() + 6) % 7;

/** Midnight UTC at the start of the ISO week-year's first week. */
function weekOneStart(isoYear: number): Date {
  const january4 = new Date(Date.UTC(isoYear, 0, 4));
  return new Date(january4.getTime() - isoWeekday(january4) * DAY_MS);
}

const pad = (value: number, width: number) => String(value).padStart(width, "0");

/** The ISO week that holds this instant (in UTC). */
export function periodOf(instant: Date): Period {
  if (Number.isNaN(instant.getTime())) throw new InvalidInputError("Not a valid date");
  const midnight = Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate());
  const monday = midnight - isoWeekday(instant) * DAY_MS;
  // The Thursday of a week decides its week-year.
  const isoYear = new Date(monday + 3 * DAY_MS).getUTCFullYear();
  const week = Math.round((monday - weekOneStart(isoYear).getTime()) / WEEK_MS) + 1;
  return { id: `${pad(isoYear, 4)}-W${pad(week, 2)}`, start: new Date(monday), end: new Date(monday + WEEK_MS) };
}

/** 52 or 53: December 28th always falls in the year's last ISO week. */
export function weeksInIsoYear(isoYear: number): number {
  return Number(periodOf(new Date(Date.UTC(isoYear, 11, 28))).id.slice(6));
}

/** Parses `YYYY-Www` (weeks 01..52, or 53 in a year that has it). */
export function parsePeriod(id: string): Period {
  const match = PERIOD_ID.exec(id.trim());
  const year = Number(match?.[1]);
  const week = Number(match?.[2]);
  if (!match || year < 1970 || week < 1 || week > weeksInIsoYear(year)) {
    throw new InvalidInputError(`Not an ISO week: ${JSON.stringify(id)} (expected YYYY-Www, e.g. 2026-W47)`);
  }
  const start = weekOneStart(year).getTime() + (week - 1) * WEEK_MS;
  return { id: `${match[1]}-W${match[2]}`, start: new Date(start), end: new Date(start + WEEK_MS) };
}

export function previousPeriod(period: Period): Period {
  return periodOf(new Date(period.start.getTime() - WEEK_MS));
}

/** What a report sent at this instant covers: the last complete week, the one before this instant's week. */
export function reportingPeriodAt(instant: Date): Period {
  return previousPeriod(periodOf(instant));
}

/** `2026-11-16` to `2026-11-22`: the period's first and last day, for people. */
export function periodDays(period: Period): { first: string; last: string } {
  const day = (time: number) => new Date(time).toISOString().slice(0, 10);
  return { first: day(period.start.getTime()), last: day(period.end.getTime() - DAY_MS) };
}
