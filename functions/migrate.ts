import { runtime } from "../shared/composition/runtime.js";
import { runMigrations } from "../shared/db/migrate.js";
import { ensureAppLoginFromSecret } from "../shared/db/roles.js";
import { logger, withLambdaContext } from "../shared/platform/logger.js";

/**
 * Run by a CDK trigger after every deploy that changes it, as the database owner: applies the
 * migrations bundled under MIGRATIONS_DIR, then gives the application's login user (its secret:
 * DB_APP_SECRET_ARN) its password and role. A failure fails the deployment.
 */
export const handler = withLambdaContext(async (): Promise<{ applied: true }> => {
  const { database } = await runtime();
  await runMigrations(database.db);
  logger.info("migrations applied");
  const appSecret = process.env.DB_APP_SECRET_ARN;
  if (appSecret)
    logger.info("application login ready", { user: await ensureAppLoginFromSecret(database.db, appSecret) });
  return { applied: true };
});
