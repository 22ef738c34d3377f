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

/** What an idle stack is billed for every hour, by profile (docs/aws-operations.md prices it). */
function idleBilled(context: Record<string, unknown>) {
  const { template, stack, fnId, envOf } = synth(context);
  const endpoints = [...resourcesIn(template, "AWS::EC2::VPCEndpoint").values()].map(props);
  const interfaceEndpoints = endpoints.filter((e) => e.VpcEndpointType === "Interface" || e.PrivateDnsEnabled);
  const clusterProps = props(only(resourcesIn(template, "AWS::RDS::DBCluster").values(), "cluster"));
  const scaling = clusterProps.ServerlessV2ScalingConfiguration as {
    MinCapacity: number;
    SecondsUntilAutoPause?: number;
  };
  return {
    proxies: resourcesIn(template, "AWS::RDS::DBProxy").size,
    endpointAzHours: interfaceEndpoints.reduce((n, e) => n + (e.SubnetIds as unknown[]).length, 0),
    interfaceEndpoints: interfaceEndpoints.length,
    minAcu: scaling.MinCapacity,
    autoPauseSeconds: scaling.SecondsUntilAutoPause,
    chatEnv: envOf(fnId(stack.api.handlers.get("chat") as Parameters<typeof fnId>[0])),
    stack,
  };
}

describe("the dev profile: the cheapest idle", () => {
  it("has no RDS Proxy, its interface endpoints in one AZ, and Aurora pausing at 0 ACUs", () => {
    const dev = idleBilled({ "kapa:profile": "dev" });
    const standard = idleBilled({});
    expect(standard).toMatchObject({ proxies: 1, interfaceEndpoints: 4, endpointAzHours: 8, minAcu: 0.5 });
    expect(standard.autoPauseSeconds).toBeUndefined();
    expect(dev).toMatchObject({
      proxies: 0,
      interfaceEndpoints: 4,
      endpointAzHours: 4,
      minAcu: 0,
      autoPauseSeconds: 300,
    });
  });

  it("lets the functions reach the writer directly, trusting the RDS CA Lambda ships", () => {
    const dev = idleBilled({ "kapa:profile": "dev" });
    expect(dev.chatEnv.DB_HOST).toEqual(dev.stack.resolve(dev.stack.database.cluster.clusterEndpoint.hostname));
    expect(dev.chatEnv.NODE_EXTRA_CA_CERTS).toBe("/var/runtime/ca-cert.pem");
    const standard = idleBilled({});
    expect(standard.chatEnv.NODE_EXTRA_CA_CERTS).toBeUndefined();
  });

  it("lets explicit settings win: a dev stack with the proxy, or a default one pausing at 0", () => {
    expect(idleBilled({ "kapa:profile": "dev", "kapa:dbProxy": "true" }).proxies).toBe(1);
    expect(idleBilled({ "kapa:dbMinCapacity": 0 })).toMatchObject({ minAcu: 0, autoPauseSeconds: 300 });
  });
});
