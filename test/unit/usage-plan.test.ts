import { describe, expect, it } from "vitest";
import { UsagePlan } from "../../local/gateway.js";

describe("local usage plan (API Gateway's per-key limits)", () => {
  it("lets a burst through, then refills at the rate", () => {
    const plan = new UsagePlan({ rateLimit: 2, burstLimit: 3, dailyQuota: 0 });
    const t0 = Date.parse("2026-11-25T10:00:00Z");
    expect([1, 2, 3, 4].map(() => plan.take("k", t0))).toEqual([true, true, true, false]);
    expect(plan.take("other", t0)).toBe(true); // one bucket per key
    expect(plan.take("k", t0 + 500)).toBe(true); // 0.5 s at 2/s: one token back
    expect(plan.take("k", t0 + 500)).toBe(false);
  });

  it("enforces a daily quota that resets at midnight UTC", () => {
    const plan = new UsagePlan({ rateLimit: 0, burstLimit: 0, dailyQuota: 2 });
    const evening = Date.parse("2026-11-25T23:59:00Z");
    expect([1, 2, 3].map(() => plan.take("k", evening))).toEqual([true, true, false]);
    expect(plan.take("k", Date.parse("2026-11-26T00:00:01Z"))).toBe(true);
  });
});
