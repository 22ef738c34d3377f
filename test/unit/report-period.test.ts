import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../shared/platform/errors.js";
import {
  parsePeriod,
  periodDays,
  periodOf,
  previousPeriod,
  reportingPeriodAt,
  weeksInIsoYear,
} from "../../shared/reports/period.js";

const iso = (date: Date) => date.toISOString();

describe("report periods (ISO weeks, UTC)", () => {
  it("parses a week into its Monday-to-Monday bounds", () => {
    const period = parsePeriod("2026-W47");
    expect(period.id).toBe("2026-W47");
    expect(iso(period.start)).toBe("2026-11-16T00:00:00.000Z");
    expect(iso(period.end)).toBe("2026-11-23T00:00:00.000Z");
    expect(periodDays(period)).toEqual({ first: "2026-11-16", last: "2026-11-22" });
  });

  it.each([
    ["2027-01-01T12:00:00Z", "2026-W53"], // a Friday: 2026 starts on a Thursday and has 53 weeks
    ["2021-01-03T23:59:59Z", "2020-W53"], // a Sunday in the previous week-year
    ["2019-12-30T00:00:00Z", "2020-W01"], // a Monday in the next week-year
    ["2024-12-30T10:00:00Z", "2025-W01"],
    ["2026-11-22T23:59:59.999Z", "2026-W47"],
    ["2026-11-23T00:00:00.000Z", "2026-W48"],
  ])("puts %s in %s", (instant, id) => {
    expect(periodOf(new Date(instant)).id).toBe(id);
  });

  it("knows which years have 53 weeks", () => {
    expect(weeksInIsoYear(2020)).toBe(53);
    expect(weeksInIsoYear(2025)).toBe(52);
    expect(weeksInIsoYear(2026)).toBe(53);
  });

  it("steps back across week-year boundaries", () => {
    expect(previousPeriod(parsePeriod("2026-W01")).id).toBe("2025-W52");
    expect(previousPeriod(parsePeriod("2027-W01")).id).toBe("2026-W53");
    expect(previousPeriod(parsePeriod("2026-W48")).id).toBe("2026-W47");
  });

  it("reports on the last complete week", () => {
    expect(reportingPeriodAt(new Date("2026-11-23T08:00:00Z")).id).toBe("2026-W47");
    expect(reportingPeriodAt(new Date("2026-11-29T23:59:59Z")).id).toBe("2026-W47");
    expect(reportingPeriodAt(new Date("2027-01-04T08:00:00Z")).id).toBe("2026-W53");
  });

  it("round-trips every day of several years", () => {
    for (let t = Date.UTC(2019, 0, 1); t < Date.UTC(2031, 0, 1); t += 86_400_000) {
      const period = periodOf(new Date(t));
      const parsed = parsePeriod(period.id);
      expect(parsed.start.getTime()).toBe(period.start.getTime());
      expect(t).toBeGreaterThanOrEqual(parsed.start.getTime());
      expect(t).toBeLessThan(parsed.end.getTime());
      expect(parsed.start.getUTCDay()).toBe(1);
    }
  });

  it.each(["2025-W53", "2026-W54", "2026-W00", "2026-47", "W47", "2026-w47", "", "1969-W01"])("rejects %j", (id) => {
    expect(() => parsePeriod(id)).toThrow(InvalidInputError);
  });
});
