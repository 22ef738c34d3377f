import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type { Db } from "./client.js";

export function defaultMigrationsFolder(): string {
  return process.env.MIGRATIONS_DIR ?? fileURLToPath(new URL("../../drizzle", import.meta.url));
}

/**
 * Applies the committed drizzle-kit migrations. Each migration runs in one transaction, so when
 * two processes race (npm start and `kapa migrate`), the loser fails without a trace and its
 * retry finds the work done.
 */
export async function runMigrations(db: Db, migrationsFolder = defaultMigrationsFolder()): Promise<void> {
  try {
    await migrate(db, { migrationsFolder });
  } catch {
    await migrate(db, { migrationsFolder });
  }
}
