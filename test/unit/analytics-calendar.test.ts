import { describe, expect, it } from "vitest";
import {
  formatLocal,
  isTimeZone,
  offsetAt,
  periodStart,
  periods,
  periodsBack,
  startOfDay,
} from "../../shared/analytics/calendar.js";
import { GRAINS_MINUTES, planRange } from "../../shared/analytics/slots.js";

const at = (iso: string) => new Date(iso).getTime();
const HOUR = 3_600_000;

describe("time zone calendar", () => {
  it("accepts IANA names and refuses offsets, abbreviations and garbage", () => {
    for (const tz of ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Asia/Kolkata"]) {
      expect(isTimeZone(tz), tz).toBe(true);
    }
    for (const tz of ["", "+01:00", "Mars/Olympus", "Europe/Berlin/", "../etc", "CEST ", "Europe/Nowhere"]) {
      expect(isTimeZone(tz), tz).toBe(false);
    }
  });

  it("knows the offset on both sides of a daylight-saving change", () => {
    expect(offsetAt("Europe/Berlin", at("2026-03-29T00:59:59Z"))).toBe(HOUR);
    expect(offsetAt("Europe/Berlin", at("2026-03-29T01:00:00Z"))).toBe(2 * HOUR);
    expect(offsetAt("Asia/Kathmandu", at("2026-06-01T00:00:00Z"))).toBe(5.75 * HOUR);
  });

  it("gives daylight-saving days 23 and 25 hours", () => {
    const spring = periods(
      "day",
      "Europe/Berlin",
      at("2026-03-29T00:00:00+01:00"),
      at("2026-03-30T00:00:00+02:00"),
      10,
    );
    expect(spring).toEqual([{ start: at("2026-03-28T23:00:00Z"), end: at("2026-03-29T22:00:00Z") }]);
    const autumn = periods("day", "America/New_York", at("2026-11-01T12:00:00Z"), at("2026-11-01T13:00:00Z"), 10);
    const [day] = autumn ?? [];
    expect(day && (day.end - day.start) / HOUR).toBe(25);
  });

  it("starts a day whose midnight is skipped at the jump (Santiago, clocks forward at 00:00)", () => {
    // 2026-09-06 00:00 does not exist in America/Santiago: clocks go from 23:59:59 (-04) to 01:00 (-03).
    const start = startOfDay("America/Santiago", { year: 2026, month: 9, day: 6 });
    expect(formatLocal("America/Santiago", start)).toBe("2026-09-06T01:00:00-03:00");
    expect(formatLocal("America/Santiago", start - 1)).toBe("2026-09-05T23:59:59.999-04:00");
  });

  it("starts weeks on Monday and months on the 1st, in the zone", () => {
    // Sunday 2026-11-01 23:30 in Berlin is Sunday 22:30 UTC: the week began Monday 2026-10-26.
    expect(formatLocal("Europe/Berlin", periodStart("week", "Europe/Berlin", at("2026-11-01T22:30:00Z")))).toBe(
      "2026-10-26T00:00:00+01:00",
    );
    // 2026-11-30 23:30 UTC is already December in Berlin.
    expect(formatLocal("Europe/Berlin", periodStart("month", "Europe/Berlin", at("2026-11-30T23:30:00Z")))).toBe(
      "2026-12-01T00:00:00+01:00",
    );
    expect(formatLocal("UTC", periodsBack("month", "UTC", at("2026-03-15T00:00:00Z"), 12))).toBe(
      "2025-04-01T00:00:00+00:00",
    );
  });

  it("makes continuous periods that cover the range and refuses more than the maximum", () => {
    const from = at("2026-01-31T10:00:00Z");
    const to = at("2026-05-02T10:00:00Z");
    const months = periods("month", "Asia/Kolkata", from, to, 400) ?? [];
    expect(months.map((m) => formatLocal("Asia/Kolkata", m.start))).toEqual([
      "2026-01-01T00:00:00+05:30",
      "2026-02-01T00:00:00+05:30",
      "2026-03-01T00:00:00+05:30",
      "2026-04-01T00:00:00+05:30",
      "2026-05-01T00:00:00+05:30",
    ]);
    for (let i = 1; i < months.length; i++) expect(months[i]?.start).toBe(months[i - 1]?.end);
    expect(periods("day", "UTC", from, to, 90)).toBeNull();
    expect(periods("day", "UTC", from, to, 92)).toHaveLength(92);
  });
});

describe("range plan", () => {
  it("covers a range exactly with the coarsest slots and raw edges under 15 minutes", () => {
    const cases: [string, string][] = [
      ["2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"],
      ["2026-01-01T05:07:13.250Z", "2026-01-09T18:44:00.001Z"],
      ["2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z"],
      ["2026-06-01T18:15:00Z", "2026-06-02T18:15:00Z"],
    ];
    for (const [a, b] of cases) {
      const from = at(a);
      const to = at(b);
      const plan = planRange(from, to);
      const pieces = [
        ...plan.slots.map((s) => ({ from: s.from, to: s.to, step: s.grainMinutes * 60_000 })),
        ...plan.raw.map((r) => ({ ...r, step: 1 })),
      ].sort((x, y) => x.from - y.from);
      expect(pieces[0]?.from).toBe(from);
      expect(pieces.at(-1)?.to).toBe(to);
      for (let i = 1; i < pieces.length; i++) expect(pieces[i]?.from).toBe(pieces[i - 1]?.to);
      for (const p of pieces) {
        expect(p.from % p.step).toBe(0);
        expect(p.to % p.step).toBe(0);
      }
      for (const r of plan.raw) expect(r.to - r.from).toBeLessThan((GRAINS_MINUTES.at(-1) as number) * 60_000);
    }
    expect(planRange(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z")).raw).toEqual([]);
  });
});
