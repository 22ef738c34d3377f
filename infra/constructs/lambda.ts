import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type CfnElement, Duration, RemovalPolicy, type Stack } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { type ICommandHooks, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ESBUILD_MAIN_FIELDS, ESBUILD_TARGET, ESM_REQUIRE_BANNER } from "../bundling.js";
import type { StackSettings } from "../settings.js";

// import.meta.dirname exists from Node 20.11; fall back to the URL for runners that do not set it.
const here: string | undefined = import.meta.dirname;
/** The repository root: functions/, drizzle/ and node_modules/ are resolved from here. */
export const REPO_ROOT = path.resolve(here ?? path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The newest Node.js runtime of this aws-cdk-lib; everything local runs the same major (test/infra/node-pin.test.ts). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Where a VPC-attached function runs. */
export interface FunctionNetwork {
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  securityGroups: ec2.ISecurityGroup[];
}

/** A file or folder of the repository shipped next to the bundle (under /var/task). */
export interface BundledFile {
  /** Path relative to the repository root. */
  from: string;
  /** Path relative to the bundle root. */
  to: string;
}

export interface KapaFunctionProps {
  /** The entry point `functions/<entry>.ts`, exporting `handler`. */
  entry: string;
  settings: Pick<StackSettings, "logRetention" | "logLevel" | "tracing">;
  description?: string;
  /** @default 1024 MB (more memory is more CPU: faster cold starts) */
  memorySize?: number;
  /** @default 29 seconds, API Gateway's integration timeout */
  timeout?: Duration;
  environment?: Record<string, string>;
  /** Attach the function to a VPC (to reach the database). */
  network?: FunctionNetwork;
  bundledFiles?: readonly BundledFile[];
  /**
   * Bundle the AWS SDK instead of using the runtime's copy: for SDK packages that are not clients
   * (the runtime is only documented to ship the SDK's clients), such as @aws-sdk/s3-request-presigner.
   */
  bundleAwsSdk?: boolean;
}

const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/** esbuild hooks that copy extra files into the bundle, so they end up in the Lambda's /var/task. */
export function copyIntoBundle(files: readonly BundledFile[]): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      files.map(({ from, to }) => {
        const target = path.posix.join(outputDir, to);
        return `mkdir -p ${shellQuote(path.posix.dirname(target))} && cp -R ${shellQuote(path.posix.join(inputDir, from))} ${shellQuote(target)}`;
      }),
  };
}

/**
 * Lambda's actions on a VPC function's network interfaces, which take no resource-level
 * permissions (AWSLambdaVPCAccessExecutionRole without its logs:* on *).
 */
export const VPC_ENI_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

/**
 * A Lambda function bundled from `functions/<entry>.ts` by local esbuild (ESM, minified, with
 * source maps), with its own log group and a role that may write to that log group only (the
 * managed AWSLambdaBasicExecutionRole would let it write to every log group of the account). Wire it to other resources with their `bindTo`/`grant*`
 * helpers, which set its environment and its IAM permissions together.
 */
export class KapaFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  /** Its entry point: `functions/<entry>.ts` (the local runtimes run the same file). */
  readonly entry: string;
  /** Files shipped next to the bundle: the local runtime maps their /var/task paths back to the repository. */
  readonly bundledFiles: readonly BundledFile[];

  constructor(scope: Construct, id: string, props: KapaFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.bundledFiles = props.bundledFiles ?? [];
    const entry = path.join(REPO_ROOT, "functions", `${props.entry}.ts`);
    if (!existsSync(entry)) throw new Error(`No Lambda entry point ${entry}`);
    for (const file of props.bundledFiles ?? []) {
      if (!existsSync(path.join(REPO_ROOT, file.from))) throw new Error(`Cannot bundle missing ${file.from}`);
    }

    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.settings.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Lambda function ${props.entry}: its own log group, and the grants of its bindings`,
    });
    this.logGroup.grantWrite(role);
    if (props.network) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: VPC_ENI_ACTIONS, resources: ["*"] }));
    }

    this.function = new NodejsFunction(this, "Function", {
      entry,
      role,
      handler: "handler",
      description: props.description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      logGroup: this.logGroup,
      tracing: props.settings.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        LOG_LEVEL: props.settings.logLevel,
        ...props.environment,
      },
      ...props.network,
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        mainFields: ESBUILD_MAIN_FIELDS,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        forceDockerBundling: false,
        banner: ESM_REQUIRE_BANNER,
        // The Node.js runtimes ship AWS SDK v3 (its clients and the credential chain).
        externalModules: props.bundleAwsSdk
          ? ["@aws-sdk/client-*", "@aws-sdk/credential-provider-node"]
          : ["@aws-sdk/*"],
        commandHooks: props.bundledFiles?.length ? copyIntoBundle(props.bundledFiles) : undefined,
      },
    });
  }

  addEnvironment(key: string, value: string): this {
    this.function.addEnvironment(key, value);
    return this;
  }
}

/** Every KapaFunction of a stack: the logical id of its Lambda function -> its entry point. */
export function functionEntries(stack: Stack): Map<string, string> {
  return new Map([...functionCode(stack)].map(([id, code]) => [id, code.entry]));
}

/** Every KapaFunction of a stack: the logical id of its Lambda function -> its code (entry, bundled files). */
export function functionCode(stack: Stack): Map<string, { entry: string; bundledFiles: readonly BundledFile[] }> {
  return new Map(
    stack.node
      .findAll()
      .filter((c): c is KapaFunction => c instanceof KapaFunction)
      .map((fn) => [
        stack.getLogicalId(fn.function.node.defaultChild as CfnElement),
        { entry: fn.entry, bundledFiles: fn.bundledFiles },
      ]),
  );
}
