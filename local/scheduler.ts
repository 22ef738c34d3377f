import { type Clock, systemClock } from "../shared/platform/clock.js";
import { logger } from "../shared/platform/logger.js";
import {
  checkTimeZone,
  nextFireTime,
  parseScheduleExpression,
  type ScheduleExpression,
} from "../shared/reports/schedule.js";

/** setTimeout takes at most 2^31-1 ms (24.8 days): a later time is reached in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface LocalSchedule {
  /** The next time the schedule fires, null when it never does again. */
  readonly next: Date | null;
  stop(): Promise<void>;
}

export interface LocalScheduleOptions {
  name: string;
  /** An EventBridge Scheduler expression, `cron(...)` or `rate(...)`, or one already parsed. */
  expression: string | ScheduleExpression;
  /** The time zone of a cron expression's fields. @default UTC */
  timeZone?: string;
  run: (scheduledTime: Date) => Promise<unknown>;
  clock?: Clock;
}

/**
 * Plays EventBridge Scheduler for cron and rate expressions, in a time zone: calls `run` with the
 * scheduled time each time the expression fires. Runs never overlap (one still going when the
 * next is due delays it); a failure is logged, and the next firing is the retry.
 */
export function startLocalSchedule(options: LocalScheduleOptions): LocalSchedule {
  const clock = options.clock ?? systemClock;
  const schedule =
    typeof options.expression === "string" ? parseScheduleExpression(options.expression) : options.expression;
  const timeZone = checkTimeZone(options.timeZone ?? "UTC");
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let next = nextFireTime(schedule, timeZone, clock.now());

  const fire = async (due: Date) => {
    try {
      await options.run(due);
    } catch (error) {
      logger.error(`scheduled job ${options.name} failed`, { scheduledTime: due.toISOString(), error });
    }
  };
  const arm = () => {
    const due = next;
    if (stopped || !due) return;
    const wait = Math.min(Math.max(due.getTime() - clock.now().getTime(), 0), MAX_TIMEOUT_MS);
    timer = setTimeout(async () => {
      if (clock.now() < due) return arm(); // a long wait, reached in steps
      running = fire(due);
      await running;
      running = undefined;
      next = nextFireTime(schedule, timeZone, new Date(Math.max(due.getTime(), clock.now().getTime())));
      arm();
    }, wait);
  };
  arm();
  return {
    get next() {
      return next;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** A rate schedule in milliseconds (below rate()'s minute, for local runs and tests): runs `job` every `intervalMs`. */
export function every(name: string, intervalMs: number, job: () => Promise<unknown>): LocalSchedule {
  return startLocalSchedule({
    name,
    expression: { kind: "rate", everyMs: intervalMs, expression: `every ${intervalMs} ms` },
    run: () => job(),
  });
}
