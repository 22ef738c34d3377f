import { inject } from "vitest";
import type { DatabaseTarget } from "../../shared/db/client.js";

export type TestDatabase = DatabaseTarget & { kind: "postgres" | "pglite" };

/**
 * This worker's own test database (test/support/global-setup.ts), an embedded PGlite or one on
 * a real server: a test file and the handlers it runs use the same one.
 */
export function testDatabase(): TestDatabase {
  const databases = inject("databases");
  const pool = Number(process.env.VITEST_POOL_ID ?? "1");
  const database = databases[(pool - 1) % databases.length];
  if (!database) throw new Error("no test database was provided");
  return database;
}
