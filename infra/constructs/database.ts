import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as rds from "aws-cdk-lib/aws-rds";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { StackSettings } from "../settings.js";
import type { FunctionNetwork } from "./lambda.js";

export const DATABASE_NAME = "kapa";
export const DATABASE_PORT = 5432;
export const DATABASE_ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_9;

export interface DatabaseProps {
  settings: Pick<
    StackSettings,
    "dbMinCapacity" | "dbMaxCapacity" | "dbDeletionProtection" | "dbPoolMax" | "logRetention"
  >;
}

/**
 * The network and the database: a VPC of isolated subnets in two AZs, Aurora Serverless v2
 * PostgreSQL behind an RDS Proxy (TLS required), credentials generated into Secrets Manager.
 *
 * Egress: the subnets have no route to the internet and there is no NAT gateway. The functions
 * only talk to AWS services, so each service they call gets an interface VPC endpoint (Secrets
 * Manager here; other constructs add theirs with `addInterfaceEndpoint`). One endpoint in two
 * AZs costs about a quarter of the two NAT gateways the same availability would need (and no
 * per-GB NAT charge), needs no public subnet, and keeps every call on the AWS network.
 * A function that must reach the internet (a real LLM API, say) would need NAT: add public
 * subnets and `natGateways` then.
 */
export class Database extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: rds.DatabaseCluster;
  readonly proxy: rds.DatabaseProxy;
  readonly secret: secretsmanager.ISecret;
  /** The one security group the proxy admits: every function that binds to the database. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  private readonly endpointSecurityGroup: ec2.SecurityGroup;
  private readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  private readonly poolMax: number;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { settings } = props;
    this.poolMax = settings.dbPoolMax;

    this.vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
    });

    this.functionSecurityGroup = new ec2.SecurityGroup(this, "FunctionSecurityGroup", {
      vpc: this.vpc,
      description: "Lambda functions that use the database",
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, "EndpointSecurityGroup", {
      vpc: this.vpc,
      description: "Interface VPC endpoints of AWS services",
      allowAllOutbound: false,
    });
    // One rule pair for every endpoint: they all share this security group.
    this.endpointSecurityGroup.connections.allowFrom(
      this.functionSecurityGroup,
      ec2.Port.tcp(443),
      "Functions to endpoints",
    );
    this.addInterfaceEndpoint("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER);

    const clusterSecurityGroup = new ec2.SecurityGroup(this, "ClusterSecurityGroup", {
      vpc: this.vpc,
      description: "Aurora cluster: reachable from the RDS Proxy only",
      allowAllOutbound: false,
    });
    this.cluster = new rds.DatabaseCluster(this, "Cluster", {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: DATABASE_ENGINE_VERSION }),
      credentials: rds.Credentials.fromGeneratedSecret("kapa_admin"),
      defaultDatabaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      writer: rds.ClusterInstance.serverlessV2("Writer", { autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: settings.dbMinCapacity,
      serverlessV2MaxCapacity: settings.dbMaxCapacity,
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      securityGroups: [clusterSecurityGroup],
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      deletionProtection: settings.dbDeletionProtection,
      removalPolicy: settings.dbDeletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT,
      cloudwatchLogsExports: ["postgresql"],
      cloudwatchLogsRetention: settings.logRetention,
    });
    const secret = this.cluster.secret;
    if (!secret) throw new Error("The database cluster has no generated secret");
    this.secret = secret;

    const proxySecurityGroup = new ec2.SecurityGroup(this, "ProxySecurityGroup", {
      vpc: this.vpc,
      description: "RDS Proxy: reachable from the database functions only",
      allowAllOutbound: false,
    });
    // The proxy reads the secret itself; let it use the endpoint should its service path need the VPC.
    this.endpointSecurityGroup.connections.allowFrom(proxySecurityGroup, ec2.Port.tcp(443), "RDS Proxy to endpoints");
    this.proxy = this.cluster.addProxy("Proxy", {
      secrets: [secret],
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      iamAuth: false,
      borrowTimeout: Duration.seconds(30),
      maxConnectionsPercent: 90,
    });
    // addProxy already opens cluster <- proxy on the database port (and the proxy's egress).
    this.proxy.connections.allowFrom(
      this.functionSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      "Database functions to RDS Proxy",
    );
  }

  /** An interface endpoint (private DNS) that the database functions may call on 443. */
  addInterfaceEndpoint(id: string, service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint {
    const endpoint = this.vpc.addInterfaceEndpoint(id, {
      service,
      subnets: this.subnets,
      privateDnsEnabled: true,
      securityGroups: [this.endpointSecurityGroup],
      open: false,
    });
    return endpoint;
  }

  /** Pass to KapaFunction: where a function that binds to the database must run. */
  get functionNetwork(): FunctionNetwork {
    return { vpc: this.vpc, vpcSubnets: this.subnets, securityGroups: [this.functionSecurityGroup] };
  }

  /**
   * Gives a function what `shared/db/target.ts` needs: the proxy endpoint, the database name and
   * the secret's ARN in its environment, read access to that one secret, and the network path.
   * The proxy authenticates with the secret's password (no IAM auth), so no `rds-db:connect`.
   */
  bindTo(fn: lambda.Function): void {
    if (!fn.isBoundToVpc || !fn.connections.securityGroups.includes(this.functionSecurityGroup)) {
      throw new Error(`${fn.node.path} must run in the database network: create it with database.functionNetwork`);
    }
    fn.addEnvironment("DB_SECRET_ARN", this.secret.secretArn);
    fn.addEnvironment("DB_HOST", this.proxy.endpoint);
    fn.addEnvironment("DB_NAME", DATABASE_NAME);
    fn.addEnvironment("DB_POOL_MAX", String(this.poolMax));
    this.secret.grantRead(fn);
  }
}
