import { describe, expect, it } from "vitest";
import { only, props, resourcesIn, synth } from "./support.js";

// Prepare ------------------------------------------------------------------------------------

const cluster = (context: Record<string, unknown>) => {
  const { template } = synth(context);
  const [, resource] = only(resourcesIn(template, "AWS::RDS::DBCluster").entries(), "cluster");
  const instances = [...resourcesIn(template, "AWS::RDS::DBInstance").values()].map(props);
  return { resource: resource as { DeletionPolicy?: string }, props: props(resource), instances };
};

// Assess -------------------------------------------------------------------------------------

describe("CDK profiles (kapa:profile)", () => {
  it("default: cheap, one writer, no deletion protection, a final snapshot on removal", () => {
    const c = cluster({});
    expect(c.props.DeletionProtection).toBe(false);
    expect(c.resource.DeletionPolicy).toBe("Snapshot");
    expect(c.instances).toHaveLength(1);
  });

  it("prod: deletion protection, a reader in the other AZ to fail over to, a final snapshot on removal", () => {
    const c = cluster({ "kapa:profile": "prod" });
    expect(c.props.DeletionProtection).toBe(true);
    expect(c.resource.DeletionPolicy).toBe("Snapshot");
    expect(c.instances).toHaveLength(2);
    expect(c.instances.map((i) => i.PromotionTier).sort()).toEqual([0, 1]);
    expect(c.instances.every((i) => i.DBInstanceClass === "db.serverless")).toBe(true);
  });

  it("lets an explicit setting win over the profile, and refuses an unknown profile", () => {
    expect(cluster({ "kapa:profile": "prod", "kapa:dbReaderInstance": false }).instances).toHaveLength(1);
    expect(() => synth({ "kapa:profile": "staging" })).toThrow(/kapa:profile/);
  });
});
