import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, type CfnElement } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { CLASSIFIER_VECTORS_FILE } from "../../infra/constructs/classification.js";
import { type KapaFunction, REPO_ROOT } from "../../infra/constructs/lambda.js";
import { MIGRATIONS_DIR } from "../../infra/constructs/migrations.js";
import { KapaServiceStack } from "../../infra/stack.js";
import * as fixture from "./stack-fixture.js";
import { type CfnResource, cdkJsonContext, mentions, only, props, ref, synth } from "./support.js";

const { template, fnId, resourcesOf } = synth();

// Assess -------------------------------------------------------------------------------------

describe("database", () => {
  it("is an encrypted Aurora PostgreSQL 17 Serverless v2 cluster named kapa", () => {
    template.resourceCountIs("AWS::RDS::DBCluster", 1);
    const cluster = props(only(resourcesOf("AWS::RDS::DBCluster").values(), "cluster"));
    expect(cluster.Engine).toBe("aurora-postgresql");
    expect(cluster.EngineVersion).toMatch(/^17\.\d+$/);
    expect(cluster.StorageEncrypted).toBe(true);
    expect(cluster.DatabaseName).toBe("kapa");
    expect(cluster.ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 4 });
    // The password is generated into Secrets Manager and resolved by CloudFormation, never literal.
    expect(JSON.stringify(cluster.MasterUserPassword)).toContain("{{resolve:secretsmanager:");
    const instance = props(only(resourcesOf("AWS::RDS::DBInstance").values(), "instance"));
    expect(instance.DBInstanceClass).toBe("db.serverless");
    expect(instance.PubliclyAccessible).toBe(false);
  });

  it("sits behind an RDS Proxy that requires TLS and uses the generated secret", () => {
    template.resourceCountIs("AWS::RDS::DBProxy", 1);
    const proxy = props(only(resourcesOf("AWS::RDS::DBProxy").values(), "proxy"));
    expect(proxy.RequireTLS).toBe(true);
    expect(proxy.EngineFamily).toBe("POSTGRESQL");
    expect(proxy.Auth).toEqual([
      expect.objectContaining({ AuthScheme: "SECRETS", SecretArn: fixture.secretRef }),
      expect.objectContaining({ AuthScheme: "SECRETS", SecretArn: fixture.appSecretRef }),
    ]);
  });

  it("admits only the function security group to the proxy, on 5432", () => {
    const proxyId = only(resourcesOf("AWS::RDS::DBProxy").keys(), "proxy");
    const proxySgRef = (
      props(resourcesOf("AWS::RDS::DBProxy").get(proxyId) ?? { Type: "" }).VpcSecurityGroupIds as unknown[]
    )[0];
    const proxySgId = (proxySgRef as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const ingress = [...resourcesOf("AWS::EC2::SecurityGroupIngress").values()]
      .map(props)
      .filter((p) => mentions(p.GroupId, proxySgId));
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { "Fn::GetAtt": [fixture.functionSgId, "GroupId"] },
      }),
    ]);
    for (const [id, sg] of resourcesOf("AWS::EC2::SecurityGroup")) {
      expect(props(sg).SecurityGroupIngress, id).toBeUndefined(); // no inline (CIDR) ingress anywhere
    }
    for (const p of [...resourcesOf("AWS::EC2::SecurityGroupIngress").values()].map(props)) {
      expect(p.CidrIp).toBeUndefined();
    }
  });

  it("reaches Secrets Manager, SQS, SES and Step Functions through interface endpoints, S3 through a gateway one, without NAT", () => {
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
    template.resourceCountIs("AWS::EC2::InternetGateway", 0);
    const all = [...resourcesOf("AWS::EC2::VPCEndpoint").values()].map(props);
    const gateways = all.filter((e) => e.VpcEndpointType === "Gateway");
    expect(gateways.map((e) => JSON.stringify(e.ServiceName).match(/\.([a-z0-9-]+)"\]/)?.[1])).toEqual(["s3"]);
    const endpoints = all.filter((e) => e.VpcEndpointType !== "Gateway");
    const services = endpoints.map((e) => JSON.stringify(e.ServiceName).match(/\.([a-z-]+)"\]/)?.[1]).sort();
    expect(services).toEqual(["email", "secretsmanager", "sqs", "states"]);
    for (const endpoint of endpoints) {
      expect(endpoint.PrivateDnsEnabled).toBe(true);
      expect(endpoint.VpcEndpointType).toBe("Interface");
    }
  });
});

describe("migrations", () => {
  const triggers = resourcesOf("Custom::Trigger");

  it("run the migrate function on deploy, after the database and before the API", () => {
    expect(triggers.size).toBe(1);
    const [triggerId, trigger] = only(triggers.entries(), "trigger");
    const versionId = (props(trigger).HandlerArn as { Ref: string }).Ref;
    const version = props(resourcesOf("AWS::Lambda::Version").get(versionId) ?? { Type: "" });
    expect(version.FunctionName).toEqual(ref(fixture.migrateFnId));
    expect(props(trigger).ExecuteOnHandlerChange).toBe(true);
    expect(props(trigger).InvocationType).toBe("RequestResponse");

    const after = new Set(trigger.DependsOn ?? []);
    const must = [
      only(resourcesOf("AWS::RDS::DBCluster").keys(), "cluster"),
      only(resourcesOf("AWS::RDS::DBInstance").keys(), "instance"),
      only(resourcesOf("AWS::RDS::DBProxy").keys(), "proxy"),
      only(resourcesOf("AWS::RDS::DBProxyTargetGroup").keys(), "target group"),
      ...resourcesOf("AWS::EC2::VPCEndpoint").keys(),
    ];
    for (const id of must) expect(after, id).toContain(id);

    for (const id of [
      ...[...fixture.functionsByHandler.values()].map(fnId),
      fixture.classifierFnId,
      fixture.sweeperFnId,
    ]) {
      expect(resourcesOf("AWS::Lambda::Function").get(id)?.DependsOn, id).toContain(triggerId);
    }
  });

  it("bundle the migrations folder", () => {
    const p = props(resourcesOf("AWS::Lambda::Function").get(fixture.migrateFnId) ?? { Type: "" });
    expect((p.Environment as { Variables: Record<string, unknown> }).Variables.MIGRATIONS_DIR).toBe(MIGRATIONS_DIR);
    expect(MIGRATIONS_DIR).toBe("/var/task/drizzle");
  });
});

describe("outputs", () => {
  it("export the API URL and the database secret ARN", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain("execute-api");
    expect(outputs.DatabaseSecretArn?.Value).toEqual(fixture.secretRef);
  });
});

describe("bundling with local esbuild (no Docker)", () => {
  it("produces ESM bundles with the migrations, the Redoc script and the classifier's vectors", {
    timeout: 240_000,
  }, () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "kapa-cdk-"));
    try {
      const app = new App({
        outdir,
        context: { ...cdkJsonContext(), "aws:cdk:enable-asset-metadata": true },
      });
      const bundled = new KapaServiceStack(app, "KapaService");
      const cloudAssembly = app.synth();
      const assembled = cloudAssembly.getStackByName(bundled.stackName).template as {
        Resources: Record<string, CfnResource & { Metadata?: Record<string, string> }>;
      };
      const assetOf = (fn: KapaFunction) => {
        const id = bundled.getLogicalId(fn.function.node.defaultChild as CfnElement);
        const assetPath = assembled.Resources[id]?.Metadata?.["aws:asset:path"];
        if (!assetPath) throw new Error(`No asset for ${id}`);
        return path.join(outdir, assetPath);
      };

      const migrate = assetOf(bundled.migrations.handler);
      expect(existsSync(path.join(migrate, "index.mjs"))).toBe(true);
      expect(existsSync(path.join(migrate, "index.mjs.map"))).toBe(true);
      expect(existsSync(path.join(migrate, "drizzle", "meta", "_journal.json"))).toBe(true);
      const code = readFileSync(path.join(migrate, "index.mjs"), "utf8");
      expect(code.startsWith("import { createRequire as __kapaCreateRequire } from 'module';")).toBe(true);
      // The AWS SDK comes from the runtime, not the bundle (imported when first needed: shared/db/target.ts).
      expect(code).toMatch(/(from\s*|import\(\s*)["']@aws-sdk\/client-secrets-manager["']/);

      const docs = bundled.api.handlers.get("docs");
      if (!docs) throw new Error("No docs function");
      expect(existsSync(path.join(assetOf(docs), "redoc.standalone.js"))).toBe(true);
      const dashboard = bundled.api.handlers.get("dashboard");
      if (!dashboard) throw new Error("No dashboard function");
      for (const file of ["index.html", "app.js", "app.css"]) {
        expect(existsSync(path.join(assetOf(dashboard), "dashboard", file)), file).toBe(true);
      }
      // The classifier's word vectors, byte for byte, where CLASSIFIER_VECTORS_PATH points.
      const vectors = path.join(assetOf(bundled.classification.classifier), CLASSIFIER_VECTORS_FILE.to);
      expect(existsSync(vectors)).toBe(true);
      expect(readFileSync(vectors).equals(readFileSync(path.join(REPO_ROOT, CLASSIFIER_VECTORS_FILE.from)))).toBe(true);
      // esbuild stays out of the Lambda: the local builder is loaded by a computed path only.
      expect(readFileSync(path.join(assetOf(dashboard), "index.mjs"), "utf8")).not.toContain("esbuild");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
