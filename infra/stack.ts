import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { routeList } from "../shared/http/routes.js";
import { Api } from "./constructs/api.js";
import { Classification } from "./constructs/classification.js";
import { Database } from "./constructs/database.js";
import { Migrations } from "./constructs/migrations.js";
import { readSettings, type StackSettings } from "./settings.js";

export interface KapaServiceStackProps extends StackProps {
  /** Overrides of the CDK context settings (tests); unset values come from the context. */
  settings?: Partial<StackSettings>;
}

/**
 * kapa-service: the REST API and its Lambdas, the database, the deploy-time migrations, and the
 * thread classification pipeline (live queue, classifier, sweeper).
 */
export class KapaServiceStack extends Stack {
  readonly settings: StackSettings;
  readonly database: Database;
  readonly api: Api;
  readonly migrations: Migrations;
  readonly classification: Classification;

  constructor(scope: Construct, id: string, props: KapaServiceStackProps = {}) {
    super(scope, id, props);
    this.settings = { ...readSettings(this.node), ...props.settings };

    this.database = new Database(this, "Database", { settings: this.settings });
    this.migrations = new Migrations(this, "Migrations", { database: this.database, settings: this.settings });
    this.classification = new Classification(this, "Classification", {
      database: this.database,
      settings: this.settings,
    });
    this.api = new Api(this, "Api", {
      routes: routeList,
      database: this.database,
      classification: this.classification,
      settings: this.settings,
    });
    // New handler code is deployed only after the schema it expects is in place.
    this.migrations.trigger.executeBefore(this.api, this.classification.classifier, this.classification.sweeper);

    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "Base URL of the API stage" });
    new CfnOutput(this, "ClassificationQueueUrl", {
      value: this.classification.liveQueue.queueUrl,
      description: "Live classification queue (thread ids)",
    });
    new CfnOutput(this, "ClassificationDeadLetterQueueUrl", {
      value: this.classification.deadLetterQueue.queueUrl,
      description: "Dead-letter queue of the live classification queue",
    });
    new CfnOutput(this, "DatabaseSecretArn", {
      value: this.database.secret.secretArn,
      description: "Secrets Manager secret with the database credentials",
    });
    new CfnOutput(this, "DatabaseProxyEndpoint", {
      value: this.database.proxy.endpoint,
      description: "RDS Proxy endpoint (inside the VPC)",
    });
  }
}
