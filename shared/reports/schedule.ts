import awsCronParser from "aws-cron-parser";

/**
 * The report schedule, in EventBridge Scheduler syntax: the CDK stack hands it to Scheduler, the
 * local runtime evaluates it with the same meaning (cron fields are wall-clock time in the time
 * zone, so "08:00 on Mondays" stays 08:00 across daylight saving changes).
 */
export const DEFAULT_REPORT_SCHEDULE = "cron(0 8 ? * MON *)";
export const DEFAULT_REPORT_TIME_ZONE = "UTC";

const CRON = /^cron\((.+)\)$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const FIELD = /^[0-9A-Za-z*?,/#-]+$/;

export type ScheduleExpression =
  | { kind: "cron"; fields: string; expression: string }
  | { kind: "rate"; everyMs: number; expression: string };

/** Parses `cron(min hour day-of-month month day-of-week year)` or `rate(N unit)`; throws a readable error. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const cron = CRON.exec(expression.trim());
  if (cron?.[1]) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6 || !fields.every((f) => FIELD.test(f))) {
      throw new Error(
        `${expression}: a cron expression has six fields: minutes hours day-of-month month day-of-week year`,
      );
    }
    // EventBridge: exactly one of day-of-month and day-of-week is "?".
    if ((fields[2] === "?") === (fields[4] === "?")) {
      throw new Error(`${expression}: exactly one of day-of-month and day-of-week must be "?"`);
    }
    return { kind: "cron", fields: fields.join(" "), expression };
  }
  const rate = RATE.exec(expression.trim());
  if (rate?.[1] && rate[2]) {
    const count = Number(rate[1]);
    const unit = rate[2].replace(/s$/, "");
    if (count < 1 || (count === 1) !== (rate[2] === unit)) {
      throw new Error(`${expression}: use rate(1 ${unit}) or rate(N ${unit}s) with N > 1`);
    }
    return { kind: "rate", everyMs: count * (UNIT_MS[unit] ?? 0), expression };
  }
  throw new Error(`${expression}: expected cron(...) or rate(N minutes|hours|days)`);
}

/** Throws unless this is an IANA time zone name the runtime knows (what Scheduler accepts). */
export function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new Error(`Unknown time zone ${JSON.stringify(timeZone)} (expected an IANA name such as Europe/Berlin)`);
  }
  return timeZone;
}

/** The wall-clock time of an instant in a time zone, written as if it were UTC. */
function wallClock(instant: Date, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return new Date(
    Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second")) +
      instant.getUTCMilliseconds(),
  );
}

/** The instant whose wall-clock time in the zone is `wall` (written as UTC); a time skipped by DST moves forward. */
function fromWallClock(wall: Date, timeZone: string): Date {
  const offsetAt = (instant: Date) => wallClock(instant, timeZone).getTime() - instant.getTime();
  const guess = new Date(wall.getTime() - offsetAt(wall));
  return new Date(wall.getTime() - offsetAt(guess));
}

/**
 * When the schedule fires next, strictly after `after`. A rate schedule counts from `after` (the
 * local runtime's start, or its last run), as Scheduler counts from the schedule's creation.
 */
export function nextFireTime(schedule: ScheduleExpression, timeZone: string, after: Date): Date | null {
  if (schedule.kind === "rate") return new Date(after.getTime() + schedule.everyMs);
  const next = awsCronParser.next(awsCronParser.parse(schedule.fields), wallClock(after, timeZone));
  return next ? fromWallClock(next, timeZone) : null;
}
