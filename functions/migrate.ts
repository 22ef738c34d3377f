import { runMigrations } from "../shared/db/migrate.js";
import { logger } from "../shared/logger.js";
import { runtime } from "../shared/runtime.js";

/**
 * Run by a CDK trigger after every deploy that changes it: applies the migrations bundled
 * under MIGRATIONS_DIR. A failure fails the deployment.
 */
export async function handler(): Promise<{ applied: true }> {
  const { database } = await runtime();
  await runMigrations(database.db);
  logger.info("migrations applied");
  return { applied: true };
}
