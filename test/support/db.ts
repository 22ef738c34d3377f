import { eq, sql } from "drizzle-orm";
import { afterAll } from "vitest";
import { createApiKey } from "../../shared/auth/api-keys.js";
import { connect, type Db } from "../../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../../shared/db/deadline.js";
import { apiKeys, threads } from "../../shared/db/schema.js";
import { testDatabase } from "./database.js";

export { createTenant, type Tenant } from "../../shared/admin/tenants.js";

/**
 * A connection to the run's test database, closed after the file. Tests seed tens of thousands of
 * rows in one statement: no API statement timeout (the code under test keeps its own).
 */
export function useTestDb(): Db {
  const database = connect({ ...testDatabase(), max: 4, timeouts: UNBOUNDED_STATEMENTS });
  afterAll(() => database.close());
  return database.db;
}

/**
 * A key that has already expired: created valid (creation refuses a past date), then its expiry
 * moved a minute into the past, so no test waits for the clock.
 */
export async function createExpiredApiKey(db: Db, projectId: string): Promise<{ id: string; key: string }> {
  const created = await createApiKey(db, {
    name: "expired",
    projectIds: [projectId],
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  await db.update(apiKeys).set({ expiresAt: sql`now() - interval '1 minute'` }).where(eq(apiKeys.id, created.id));
  return created;
}

/** Threads with these first questions in the project, unlabelled; their ids in the questions' order. */
export async function insertThreads(db: Db, projectId: string, questions: string[]): Promise<string[]> {
  const rows = await db
    .insert(threads)
    .values(questions.map((firstQuestion) => ({ projectId, firstQuestion })))
    .returning({ id: threads.id });
  return rows.map((r) => r.id);
}
