import { Duration } from "aws-cdk-lib";
import * as triggers from "aws-cdk-lib/triggers";
import { Construct } from "constructs";
import type { StackSettings } from "../settings.js";
import type { Database } from "./database.js";
import { KapaFunction } from "./lambda.js";

export interface MigrationsProps {
  database: Database;
  settings: Pick<StackSettings, "logRetention" | "logLevel" | "tracing">;
}

/** Where the bundled drizzle migrations live in the function (MIGRATIONS_DIR). */
export const MIGRATIONS_DIR = "/var/task/drizzle";

/**
 * Applies the drizzle migrations (functions/migrate.ts) during the deployment, once the cluster,
 * the proxy and the Secrets Manager endpoint exist; a failed migration fails the deployment.
 *
 * The repository's drizzle/ folder is copied into the bundle, and the bundle's hash is the
 * function's code hash: a new migration, a change of the shared code or of the database
 * endpoint makes a new function version, and a new version re-runs the trigger. Deployments
 * that change none of these have nothing to migrate. The migrator is idempotent and takes an
 * advisory lock, so a re-run is harmless.
 */
export class Migrations extends Construct {
  readonly handler: KapaFunction;
  readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    const timeout = Duration.minutes(5);
    this.handler = new KapaFunction(this, "Migrate", {
      entry: "migrate",
      description: "Applies the drizzle migrations (run by a deploy-time trigger)",
      settings: props.settings,
      memorySize: 512,
      timeout,
      network: props.database.functionNetwork,
      // A migration may run longer than an API statement (shared/db/deadline.ts): no statement timeout.
      environment: { MIGRATIONS_DIR, DB_STATEMENT_TIMEOUT_MS: "0" },
      bundledFiles: [{ from: "drizzle", to: "drizzle" }],
    });
    // The owner: it creates the schema and the application's login.
    props.database.bindTo(this.handler.function, { as: "owner" });

    this.trigger = new triggers.Trigger(this, "Trigger", {
      handler: this.handler.function,
      executeOnHandlerChange: true,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      // The invocation waits for the function, which may wait for Aurora to scale up.
      timeout: timeout.plus(Duration.minutes(1)),
      executeAfter: [props.database],
    });
  }
}
