import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { APP_USER } from "../../shared/db/roles.js";
import type { StackSettings } from "../settings.js";
import type { FunctionNetwork } from "./lambda.js";

export const DATABASE_NAME = "kapa";
/** Lambda's Node.js runtimes' Amazon CA bundle, RDS's among them (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html). */
export const LAMBDA_AMAZON_CA_FILE = "/var/runtime/ca-cert.pem";
/** How long an Aurora instance at 0 ACUs waits without connections before it pauses (AWS's minimum). */
export const AUTO_PAUSE_AFTER = Duration.minutes(5);
export const DATABASE_PORT = 5432;
/**
 * The newest Aurora PostgreSQL version of this aws-cdk-lib that Aurora Serverless v2 supports in
 * every Region (17.4 and higher; the 18 line is not listed for it):
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.ServerlessV2.html
 * It also supports scaling to 0 ACUs (auto-pause), which the dev profile uses.
 */
export const DATABASE_ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_9;

export interface DatabaseProps {
  settings: Pick<
    StackSettings,
    | "dbMinCapacity"
    | "dbMaxCapacity"
    | "dbDeletionProtection"
    | "dbReaderInstance"
    | "dbPoolMax"
    | "logRetention"
    | "dbSecretRotationDays"
    | "dbProxy"
    | "interfaceEndpointAzs"
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
  /** RDS Proxy (kapa:dbProxy; none in the dev profile: the functions reach the writer directly). */
  readonly proxy?: rds.DatabaseProxy;
  /** The owner's (master) credentials: the migrations only. */
  readonly secret: secretsmanager.ISecret;
  /** The application's login (kapa_app_user, role kapa_app): every other function. */
  readonly appSecret: secretsmanager.ISecret;
  /** The one security group the proxy admits: every function that binds to the database. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  /** Rejected connections in the VPC (flow log), for security investigations. */
  readonly flowLogs: logs.LogGroup;
  /** Rotates the database credentials (kapa:dbSecretRotationDays; unset when 0). */
  readonly secretRotation?: secretsmanager.SecretRotation;
  readonly appSecretRotation?: secretsmanager.SecretRotation;
  private readonly endpointSecurityGroup: ec2.SecurityGroup;
  private readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  private readonly poolMax: number;
  private readonly endpointSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { settings } = props;
    this.poolMax = settings.dbPoolMax;

    this.vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
    });
    this.flowLogs = this.logRejectedTraffic(settings.logRetention);
    // Each interface endpoint is billed per AZ it has a network interface in; one AZ (the dev
    // profile) is reachable from both, without the second AZ's availability.
    this.endpointSubnets =
      settings.interfaceEndpointAzs >= 2 ? this.subnets : { subnets: this.vpc.isolatedSubnets.slice(0, 1) };

    this.functionSecurityGroup = this.securityGroup("FunctionSecurityGroup", "Lambda functions that use the database");
    this.endpointSecurityGroup = this.securityGroup("EndpointSecurityGroup", "Interface VPC endpoints of AWS services");
    // One rule pair for every endpoint: they all share this security group.
    this.endpointSecurityGroup.connections.allowFrom(
      this.functionSecurityGroup,
      ec2.Port.tcp(443),
      "Functions to endpoints",
    );
    const secretsEndpoint = this.addInterfaceEndpoint(
      "SecretsManager",
      ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    );

    this.cluster = this.createCluster(settings);
    const secret = this.cluster.secret;
    if (!secret) throw new Error("The database cluster has no generated secret");
    this.secret = secret;
    // The application's credentials, generated like the master's; the Migrate function creates the
    // login with this password (shared/db/roles.ts), and the proxy accepts both.
    // Attached: host, port and database name are filled in, as rotation needs them.
    this.appSecret = new rds.DatabaseSecret(this, "AppSecret", {
      username: APP_USER,
      masterSecret: secret,
      excludeCharacters: " %+~`#$&*()|[]{}:;<>?!'/@\"\\",
    }).attach(this.cluster);
    if (settings.dbSecretRotationDays > 0) {
      const rotations = this.rotateCredentials(Duration.days(settings.dbSecretRotationDays), secretsEndpoint);
      this.secretRotation = rotations.owner;
      this.appSecretRotation = rotations.app;
    }

    if (settings.dbProxy) this.proxy = this.createProxy();
    else {
      this.cluster.connections.allowFrom(
        this.functionSecurityGroup,
        ec2.Port.tcp(DATABASE_PORT),
        "Database functions to the writer (no RDS Proxy)",
      );
    }
  }

  /** A security group with no egress rules: every path is opened explicitly with allowFrom. */
  private securityGroup(id: string, description: string): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, id, { vpc: this.vpc, description, allowAllOutbound: false });
  }

  /**
   * Rejected traffic only: the security signal (an unexpected caller, a missing rule) at a
   * fraction of the volume of every accepted packet between the functions and the proxy.
   */
  private logRejectedTraffic(retention: logs.RetentionDays): logs.LogGroup {
    const flowLogs = new logs.LogGroup(this, "FlowLogs", {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const flowLogRole = new iam.Role(this, "FlowLogRole", {
      assumedBy: new iam.ServicePrincipal("vpc-flow-logs.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
      }),
      description: "VPC flow logs: write to the flow log group",
    });
    flowLogs.grantWrite(flowLogRole);
    flowLogs.grant(flowLogRole, "logs:DescribeLogStreams");
    // The L1 resource: the L2 FlowLog also grants its role iam:PassRole on itself, which it never needs.
    new ec2.CfnFlowLog(this, "FlowLog", {
      resourceId: this.vpc.vpcId,
      resourceType: "VPC",
      trafficType: "REJECT",
      logDestinationType: "cloud-watch-logs",
      logGroupName: flowLogs.logGroupName,
      deliverLogsPermissionArn: flowLogRole.roleArn,
    });
    return flowLogs;
  }

  private createCluster(settings: DatabaseProps["settings"]): rds.DatabaseCluster {
    const clusterSecurityGroup = this.securityGroup(
      "ClusterSecurityGroup",
      "Aurora cluster: reachable from the RDS Proxy only",
    );
    return new rds.DatabaseCluster(this, "Cluster", {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: DATABASE_ENGINE_VERSION }),
      credentials: rds.Credentials.fromGeneratedSecret("kapa_admin"),
      defaultDatabaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      writer: rds.ClusterInstance.serverlessV2("Writer", { autoMinorVersionUpgrade: true }),
      // A reader in the other AZ to fail over to (kapa:dbReaderInstance, on in the prod profile);
      // it scales with the writer so that it can take the writer's load at once.
      readers: settings.dbReaderInstance
        ? [rds.ClusterInstance.serverlessV2("Reader", { autoMinorVersionUpgrade: true, scaleWithWriter: true })]
        : [],
      serverlessV2MinCapacity: settings.dbMinCapacity,
      // At 0 ACUs the instance pauses after this long without connections, AWS's shortest.
      serverlessV2AutoPauseDuration: settings.dbMinCapacity === 0 ? AUTO_PAUSE_AFTER : undefined,
      serverlessV2MaxCapacity: settings.dbMaxCapacity,
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      securityGroups: [clusterSecurityGroup],
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      deletionProtection: settings.dbDeletionProtection,
      // A final snapshot whenever CloudFormation removes the cluster (deletion protection first has to be lifted).
      removalPolicy: RemovalPolicy.SNAPSHOT,
      cloudwatchLogsExports: ["postgresql"],
      cloudwatchLogsRetention: settings.logRetention,
    });
  }

  /**
   * AWS's PostgreSQL rotation functions (Serverless Application Repository), in the isolated
   * subnets: they reach the cluster directly on 5432 and Secrets Manager through the endpoint.
   * RDS Proxy reads the new password itself; clients re-read the secret when a new connection is
   * refused (shared/db/target.ts). No rotation during a deployment.
   */
  private rotateCredentials(
    every: Duration,
    secretsEndpoint: ec2.IInterfaceVpcEndpoint,
  ): { owner: secretsmanager.SecretRotation; app: secretsmanager.SecretRotation } {
    const rotationSecurityGroup = this.securityGroup(
      "RotationSecurityGroup",
      "Secrets Manager rotation function of the database credentials",
    );
    // addRotationSingleUser opens the cluster to it; the endpoint it is told to use, not.
    this.endpointSecurityGroup.connections.allowFrom(
      rotationSecurityGroup,
      ec2.Port.tcp(443),
      "Rotation function to endpoints",
    );
    const options = {
      automaticallyAfter: every,
      vpcSubnets: this.subnets,
      securityGroup: rotationSecurityGroup,
      endpoint: secretsEndpoint,
      rotateImmediatelyOnUpdate: false,
    };
    // The master's credentials: a single user.
    const owner = this.cluster.addRotationSingleUser(options);
    // Alternating users (kapa_app_user and a clone with its memberships), rotated with the
    // master's credentials: a rotation never breaks the connections of the old password.
    const app = this.cluster.addRotationMultiUser("AppRotation", { secret: this.appSecret, ...options });
    return { owner, app };
  }

  /** The RDS Proxy in front of the cluster (TLS required), accepting both logins. */
  private createProxy(): rds.DatabaseProxy {
    const proxySecurityGroup = this.securityGroup(
      "ProxySecurityGroup",
      "RDS Proxy: reachable from the database functions only",
    );
    // The proxy reads the secret itself; let it use the endpoint should its service path need the VPC.
    this.endpointSecurityGroup.connections.allowFrom(proxySecurityGroup, ec2.Port.tcp(443), "RDS Proxy to endpoints");
    const proxy = this.cluster.addProxy("Proxy", {
      secrets: [this.secret, this.appSecret],
      vpc: this.vpc,
      vpcSubnets: this.subnets,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      iamAuth: false,
      borrowTimeout: Duration.seconds(30),
      maxConnectionsPercent: 90,
    });
    // addProxy already opens cluster <- proxy on the database port (and the proxy's egress).
    proxy.connections.allowFrom(
      this.functionSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      "Database functions to RDS Proxy",
    );
    return proxy;
  }

  /** An interface endpoint (private DNS) that the database functions may call on 443. */
  addInterfaceEndpoint(id: string, service: ec2.IInterfaceVpcEndpointService): ec2.InterfaceVpcEndpoint {
    const endpoint = this.vpc.addInterfaceEndpoint(id, {
      service,
      subnets: this.endpointSubnets,
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
   * `as: "app"` (every function but the migrations) connects as the application's login, with
   * the kapa_app role's privileges only; `as: "owner"` as the master user, and may read the
   * application's secret to create its login (DB_APP_SECRET_ARN).
   */
  bindTo(fn: lambda.Function, options: { as: "app" | "owner" } = { as: "app" }): void {
    if (!fn.isBoundToVpc || !fn.connections.securityGroups.includes(this.functionSecurityGroup)) {
      throw new Error(`${fn.node.path} must run in the database network: create it with database.functionNetwork`);
    }
    const secret = options.as === "owner" ? this.secret : this.appSecret;
    fn.addEnvironment("DB_SECRET_ARN", secret.secretArn);
    fn.addEnvironment("DB_HOST", this.proxy?.endpoint ?? this.cluster.clusterEndpoint.hostname);
    // Without the proxy the certificate is the RDS CA's, which Node does not trust by default;
    // Lambda's Node.js runtime ships it in this file (loaded only when asked).
    if (!this.proxy) fn.addEnvironment("NODE_EXTRA_CA_CERTS", LAMBDA_AMAZON_CA_FILE);
    fn.addEnvironment("DB_NAME", DATABASE_NAME);
    fn.addEnvironment("DB_POOL_MAX", String(this.poolMax));
    secret.grantRead(fn);
    if (options.as === "owner") {
      fn.addEnvironment("DB_APP_SECRET_ARN", this.appSecret.secretArn);
      this.appSecret.grantRead(fn);
    }
  }
}
