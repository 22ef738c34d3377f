import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { routeList } from "../shared/http/routes.js";
import { Api } from "./constructs/api.js";
import { Backfill } from "./constructs/backfill.js";
import { Classification } from "./constructs/classification.js";
import { Database } from "./constructs/database.js";
import { Exports } from "./constructs/exports.js";
import { HelperLogs } from "./constructs/helper-logs.js";
import { Migrations } from "./constructs/migrations.js";
import { Observability } from "./constructs/observability.js";
import { Reports } from "./constructs/reports.js";
import { Webhooks } from "./constructs/webhooks.js";
import { acknowledgeNagFindings } from "./nag-suppressions.js";
import { readSettings, type StackSettings } from "./settings.js";

export interface KapaServiceStackProps extends StackProps {
  /** Overrides of the CDK context settings (tests); unset values come from the context. */
  settings?: Partial<StackSettings>;
}

/**
 * kapa-service: the REST API and its Lambdas, the database, the deploy-time migrations, and the
 * thread classification pipeline (live queue, classifier, sweeper), and the scheduled email reports.
 */
type Output = [id: string, value: string, description: string];

/** `<name>QueueUrl` and `<name>DeadLetterQueueUrl`: a queue's URL and its dead-letter queue's. */
function queueOutputs(name: string, queues: { queue: IQueue; deadLetterQueue: IQueue }, what: string): Output[] {
  return [
    [`${name}QueueUrl`, queues.queue.queueUrl, `Queue URL of ${what}`],
    [`${name}DeadLetterQueueUrl`, queues.deadLetterQueue.queueUrl, `Dead-letter queue of ${what}`],
  ];
}

export class KapaServiceStack extends Stack {
  readonly settings: StackSettings;
  readonly database: Database;
  readonly api: Api;
  readonly migrations: Migrations;
  readonly classification: Classification;
  readonly backfill: Backfill;
  readonly reports: Reports;
  readonly exports: Exports;
  readonly webhooks: Webhooks;
  readonly observability: Observability;
  readonly helperLogs: HelperLogs;

  constructor(scope: Construct, id: string, props: KapaServiceStackProps = {}) {
    super(scope, id, props);
    this.settings = { ...readSettings(this.node), ...props.settings };

    this.database = new Database(this, "Database", { settings: this.settings });
    this.migrations = new Migrations(this, "Migrations", { database: this.database, settings: this.settings });
    this.classification = new Classification(this, "Classification", {
      database: this.database,
      settings: this.settings,
    });
    // After Classification: the report functions reuse the SQS endpoint it adds to the VPC.
    this.reports = new Reports(this, "Reports", { database: this.database, settings: this.settings });
    this.backfill = new Backfill(this, "Backfill", {
      database: this.database,
      classification: this.classification,
      settings: this.settings,
    });
    this.exports = new Exports(this, "Exports", { database: this.database, settings: this.settings });
    // After Classification: the dispatcher and recorder reach SQS through the endpoint it adds.
    this.webhooks = new Webhooks(this, "Webhooks", { database: this.database, settings: this.settings });
    this.api = new Api(this, "Api", {
      routes: routeList,
      database: this.database,
      classification: this.classification,
      backfill: this.backfill,
      exports: this.exports,
      webhooks: this.webhooks,
      settings: this.settings,
    });
    // New handler code is deployed only after the schema it expects is in place.
    this.migrations.trigger.executeBefore(
      this.api,
      this.classification.classifier,
      this.classification.sweeper,
      this.reports.planner,
      this.reports.sender,
      this.backfill.plan,
      this.backfill.enqueueRange,
      this.exports.worker,
      this.webhooks.dispatcher,
      this.webhooks.recorder,
      this.webhooks.sender,
    );

    this.addServiceOutputs();

    // Last: it collects the alarms of everything above and draws the dashboard.
    this.observability = new Observability(this, "Observability", {
      api: this.api,
      classification: this.classification,
      backfill: this.backfill,
      reports: this.reports,
      database: this.database,
      exports: this.exports,
      webhooks: this.webhooks,
      settings: this.settings,
    });
    this.addObservabilityOutputs();
    this.helperLogs = new HelperLogs(this, "HelperLogs", { retention: this.settings.logRetention });
    acknowledgeNagFindings(this);
  }

  /** The endpoints, queues, bucket and secrets that the CLI and operators look up. */
  private addServiceOutputs(): void {
    const outputs: Output[] = [
      ["ApiUrl", this.api.url, "Base URL of the API stage"],
      ...queueOutputs("Classification", this.classification.live, "the live classification queue (thread ids)"),
      ...queueOutputs("Report", this.reports.jobs, "the report jobs (one message per team and period)"),
      [
        "BackfillStateMachineArn",
        this.backfill.stateMachine.stateMachineArn,
        "Backfill state machine (npx kapa backfill: BACKFILL_STATE_MACHINE_ARN)",
      ],
      ...queueOutputs("Backfill", this.backfill.queue, "the backfill queue (BACKFILL_QUEUE_URL, BACKFILL_DLQ_URL)"),
      [
        "ExportBucketName",
        this.exports.bucket.bucketName,
        "Bucket of the thread exports (objects expire; downloads are presigned links)",
      ],
      [
        "WebhookQueueUrl",
        this.webhooks.deliveries.queue.queueUrl,
        "Webhook deliveries (one message per event and endpoint)",
      ],
      ["DatabaseSecretArn", this.database.secret.secretArn, "Secrets Manager secret with the database credentials"],
      [
        "DatabaseProxyEndpoint",
        this.database.proxy?.endpoint ?? this.database.cluster.clusterEndpoint.hostname,
        "Where the functions reach the database: the RDS Proxy endpoint, or the writer without one (inside the VPC)",
      ],
    ];
    for (const [id, value, description] of outputs) new CfnOutput(this, id, { value, description });
  }

  /** After Observability: its alarm topic and dashboard, and the usage plan's id. */
  private addObservabilityOutputs(): void {
    new CfnOutput(this, "AlarmTopicArn", {
      value: this.observability.topic.topicArn,
      description: "SNS topic of every alarm (subscribe on-call here, or set kapa:alarmEmail)",
    });
    new CfnOutput(this, "DashboardName", {
      value: this.observability.dashboard.dashboardName,
      description: "CloudWatch dashboard of the service",
    });
    if (this.api.usagePlan) {
      new CfnOutput(this, "UsagePlanId", {
        value: this.api.usagePlan.usagePlanId,
        description: "Per-key limits: `kapa key create` registers each key here (USAGE_PLAN_ID)",
      });
    }
  }
}
