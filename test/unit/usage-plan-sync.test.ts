import { describe, expect, it } from "vitest";
import { syncUsagePlan, type UsagePlanRegistry } from "../../shared/auth/usage-plan.js";

/** API Gateway's usage plan is AWS itself, which we do not run: an in-memory stand-in for it. */
class InMemoryPlan implements UsagePlanRegistry {
  readonly keys = new Set<string>();
  calls = 0;
  async register(id: string) {
    this.calls++;
    this.keys.add(id);
  }
  async unregister(id: string) {
    this.keys.delete(id);
  }
  async registered() {
    return new Set(this.keys);
  }
}

describe("usage plan sync", () => {
  it("registers only the active keys the plan lacks, and is idempotent", async () => {
    const plan = new InMemoryPlan();
    await plan.register("a");
    plan.calls = 0;
    expect(await syncUsagePlan(plan, ["a", "b", "c"])).toEqual({ registered: ["b", "c"], already: 1 });
    expect(plan.calls).toBe(2);
    expect(await syncUsagePlan(plan, ["a", "b", "c"])).toEqual({ registered: [], already: 3 });
    expect([...plan.keys].sort()).toEqual(["a", "b", "c"]);
  });
});
