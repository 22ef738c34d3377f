/**
 * Calendar arithmetic in an IANA time zone with nothing but Intl: where a zone's days, Monday
 * weeks and months begin, as instants (epoch milliseconds). A day that has a daylight-saving
 * change lasts 23 or 25 hours; a day whose midnight does not exist (the clocks jump at 00:00)
 * begins at the jump.
 */

export const INTERVALS = ["day", "week", "month"] as const;
export type Interval = (typeof INTERVALS)[number];

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let format = formatters.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(tz, format);
  }
  return format;
}

/** IANA names only ("Europe/Berlin", "UTC", "Etc/GMT+5"), not offsets or abbreviations Intl may also take. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export function isTimeZone(tz: string): boolean {
  if (!IANA_NAME.test(tz) || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wall times already asked for, per zone: Intl's formatToParts is the calendar's main cost (about
 * 5 us a call, four per bucket boundary), and boundaries repeat, within a request (a bucket's end
 * is the next one's start) and across requests (every project in a zone shares its days and
 * weeks). A pure function of its arguments, so a bounded cache is always right.
 */
const wallTimes = new Map<string, Map<number, number>>();
/** At most 32 zones of 10,000 instants (about 15 MB): a two-year weekly request asks for ~420. */
const CACHED_ZONES = 32;
const WALL_TIMES_PER_ZONE = 10_000;

/** The wall-clock time at `t` in `tz`, as epoch milliseconds of the same wall time in UTC. */
function wallTime(tz: string, t: number): number {
  const seconds = Math.floor(t / 1000) * 1000;
  let zone = wallTimes.get(tz);
  if (!zone) {
    if (wallTimes.size >= CACHED_ZONES) wallTimes.clear();
    zone = new Map();
    wallTimes.set(tz, zone);
  }
  let wall = zone.get(seconds);
  if (wall === undefined) {
    wall = formattedWallTime(tz, seconds);
    if (zone.size >= WALL_TIMES_PER_ZONE) zone.clear();
    zone.set(seconds, wall);
  }
  return wall + (t - seconds);
}

/** The wall-clock time at a whole second, from Intl. */
function formattedWallTime(tz: string, seconds: number): number {
  const parts: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(seconds)) parts[part.type] = part.value;
  const year = parts.era === "BC" || parts.era === "B" ? 1 - Number(parts.year) : Number(parts.year);
  const wall = new Date(0);
  wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
  return wall.getTime();
}

/** The zone's offset from UTC at `t`, in milliseconds (positive east of Greenwich). */
export function offsetAt(tz: string, t: number): number {
  return wallTime(tz, t) - t;
}

/** A calendar date; `month` is 1-12, `day` may overflow (normalized as Date.UTC does). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

function utcDate(date: LocalDate): Date {
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day);
  return d;
}

function normalize(date: LocalDate): LocalDate {
  const d = utcDate(date);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function localDate(tz: string, t: number): LocalDate {
  const d = new Date(wallTime(tz, t));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The first instant of a local date: its midnight, or the end of the gap when midnight is skipped. */
export function startOfDay(tz: string, date: LocalDate): number {
  const wall = utcDate(date).getTime();
  const before = offsetAt(tz, wall - DAY_MS);
  const after = offsetAt(tz, wall + DAY_MS);
  const valid = [wall - before, wall - after].filter((t) => wallTime(tz, t) === wall);
  // Midnight repeated (clocks back at 00:00): the day starts at the first one. Skipped: at the jump.
  return valid.length > 0 ? Math.min(...valid) : wall - before;
}

/** The local date on which the interval's period containing `date` begins. */
function periodDate(interval: Interval, date: LocalDate): LocalDate {
  if (interval === "month") return { ...date, day: 1 };
  if (interval === "week") {
    const mondayBased = (utcDate(date).getUTCDay() + 6) % 7;
    return normalize({ ...date, day: date.day - mondayBased });
  }
  return date;
}

function nextPeriod(interval: Interval, date: LocalDate, steps = 1): LocalDate {
  if (interval === "month") return normalize({ year: date.year, month: date.month + steps, day: 1 });
  return normalize({ ...date, day: date.day + (interval === "week" ? 7 : 1) * steps });
}

/** The start of the period (day, Monday week, month) containing `t`, in `tz`. */
export function periodStart(interval: Interval, tz: string, t: number): number {
  return startOfDay(tz, periodDate(interval, localDate(tz, t)));
}

/** The start of the period `count - 1` periods before the one containing `t`. */
export function periodsBack(interval: Interval, tz: string, t: number, count: number): number {
  return startOfDay(tz, nextPeriod(interval, periodDate(interval, localDate(tz, t)), -(count - 1)));
}

export interface Period {
  start: number;
  end: number;
}

/**
 * The periods that meet [from, to), oldest first: continuous, each [start, end) in the zone's
 * calendar. Null when there would be more than `max` of them.
 */
export function periods(interval: Interval, tz: string, from: number, to: number, max: number): Period[] | null {
  const result: Period[] = [];
  let date = periodDate(interval, localDate(tz, from));
  let start = startOfDay(tz, date);
  while (start < to) {
    date = nextPeriod(interval, date);
    const end = startOfDay(tz, date);
    if (end <= start) continue; // a date the zone skipped entirely (Pacific/Apia, 2011-12-30)
    if (result.length === max) return null;
    result.push({ start, end });
    start = end;
  }
  return result;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

/** `t` as an ISO-8601 local date-time with the zone's offset: 2026-11-02T00:00:00+01:00. */
export function formatLocal(tz: string, t: number): string {
  const offset = Math.round(offsetAt(tz, t) / 1000);
  const wall = new Date(t + offset * 1000);
  const year = wall.getUTCFullYear();
  const date = `${year < 0 ? "-" : ""}${pad(year, 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  const ms = wall.getUTCMilliseconds();
  const abs = Math.abs(offset);
  const seconds = abs % 60;
  const zone = `${offset < 0 ? "-" : "+"}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}${seconds ? `:${pad(seconds)}` : ""}`;
  return `${date}T${time}${ms ? `.${pad(ms, 3)}` : ""}${zone}`;
}
