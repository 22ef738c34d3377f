import { afterEach, describe, expect, it, vi } from "vitest";
import { startLocalSchedule } from "../../local/scheduler.js";
import {
  checkTimeZone,
  DEFAULT_REPORT_SCHEDULE,
  nextFireTime,
  parseScheduleExpression,
} from "../../shared/reports/schedule.js";

const next = (expression: string, timeZone: string, after: string) =>
  nextFireTime(parseScheduleExpression(expression), timeZone, new Date(after))?.toISOString();

describe("report schedule (EventBridge Scheduler syntax, evaluated locally)", () => {
  it("fires on Mondays at 08:00 UTC by default, strictly after the given time", () => {
    expect(next(DEFAULT_REPORT_SCHEDULE, "UTC", "2026-11-18T10:00:00Z")).toBe("2026-11-23T08:00:00.000Z");
    expect(next(DEFAULT_REPORT_SCHEDULE, "UTC", "2026-11-23T08:00:00Z")).toBe("2026-11-30T08:00:00.000Z");
  });

  it("reads cron fields as wall-clock time in the time zone, across daylight saving changes", () => {
    // Berlin: UTC+1 until 2026-03-29, UTC+2 after.
    expect(next(DEFAULT_REPORT_SCHEDULE, "Europe/Berlin", "2026-03-22T12:00:00Z")).toBe("2026-03-23T07:00:00.000Z");
    expect(next(DEFAULT_REPORT_SCHEDULE, "Europe/Berlin", "2026-03-23T12:00:00Z")).toBe("2026-03-30T06:00:00.000Z");
    // New York: daylight saving ends 2026-11-01, so 08:00 is 13:00 UTC on 2026-11-02.
    expect(next(DEFAULT_REPORT_SCHEDULE, "America/New_York", "2026-10-27T00:00:00Z")).toBe("2026-11-02T13:00:00.000Z");
  });

  it("counts a rate from the given time", () => {
    expect(next("rate(5 minutes)", "UTC", "2026-11-23T08:00:00Z")).toBe("2026-11-23T08:05:00.000Z");
    expect(next("rate(1 day)", "UTC", "2026-11-23T08:00:00Z")).toBe("2026-11-24T08:00:00.000Z");
  });

  it.each([
    "cron(0 8 * * MON *)", // both day fields set
    "cron(0 8 ? * ?)", // five fields
    "rate(1 minutes)",
    "rate(0 minutes)",
    "rate(5 weeks)",
    "at(2026-11-23T08:00:00)",
    "0 8 * * 1",
  ])("rejects %j", (expression) => {
    expect(() => parseScheduleExpression(expression)).toThrow();
  });

  it("accepts IANA time zones only", () => {
    expect(checkTimeZone("Europe/Berlin")).toBe("Europe/Berlin");
    expect(() => checkTimeZone("Mars/Olympus")).toThrow(/Unknown time zone/);
  });
});

describe("local report schedule", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs the job at each firing with the scheduled time, and stops", async () => {
    vi.useFakeTimers({ now: new Date("2026-11-22T23:00:00Z") });
    const runs: string[] = [];
    const schedule = startLocalSchedule({
      name: "test",
      expression: DEFAULT_REPORT_SCHEDULE,
      timeZone: "UTC",
      run: async (at) => void runs.push(at.toISOString()),
    });
    expect(schedule.next?.toISOString()).toBe("2026-11-23T08:00:00.000Z");

    await vi.advanceTimersByTimeAsync(9 * 3600_000 - 1);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual(["2026-11-23T08:00:00.000Z"]);
    expect(schedule.next?.toISOString()).toBe("2026-11-30T08:00:00.000Z");

    await vi.advanceTimersByTimeAsync(7 * 86_400_000);
    expect(runs).toEqual(["2026-11-23T08:00:00.000Z", "2026-11-30T08:00:00.000Z"]);
    await schedule.stop();
    await vi.advanceTimersByTimeAsync(7 * 86_400_000);
    expect(runs).toHaveLength(2);
  });

  it("logs a failed run and fires again at the next time", async () => {
    vi.useFakeTimers({ now: new Date("2026-11-23T08:00:00Z") });
    let calls = 0;
    const schedule = startLocalSchedule({
      name: "test",
      expression: "rate(1 hour)",
      timeZone: "UTC",
      run: async () => {
        calls++;
        throw new Error("database down");
      },
    });
    await vi.advanceTimersByTimeAsync(2 * 3600_000);
    expect(calls).toBe(2);
    await schedule.stop();
  });
});
