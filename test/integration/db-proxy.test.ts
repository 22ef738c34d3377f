import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connect } from "../../shared/db/client.js";
import { projects } from "../../shared/db/schema.js";
import { testDatabase } from "../support/database.js";

// Prepare ------------------------------------------------------------------------------------

const target = testDatabase();

/** Runs parameterized queries on one connection, then counts that session's named prepared statements. */
async function preparedStatementsAfterQueries(proxy: boolean): Promise<number> {
  const database = connect({ ...target, max: 1, proxy });
  try {
    for (let i = 0; i < 3; i++) {
      await database.db
        .select({ id: projects.id })
        .from(projects)
        .where(eq(projects.projectName, `p${i}`));
      await database.db.execute(sql`select ${i}::int as n`);
    }
    const [row] = await database.db.execute<{ n: string | number }>(
      sql`select count(*) as n from pg_prepared_statements`,
    );
    return Number(row?.n);
  } finally {
    await database.close();
  }
}

// Act and assess -----------------------------------------------------------------------------

// The embedded database is one session shared by every client: its prepared statements are everyone's.
describe.runIf(target.kind === "postgres")("connections through RDS Proxy", () => {
  it("leave no named prepared statement in the session (they would pin it to one database connection)", async () => {
    expect(await preparedStatementsAfterQueries(true)).toBe(0);
  });

  // With `fetch_types` off (shared/db/client.ts: its type query's dropped promise was an unhandled
  // rejection), postgres.js names none of drizzle's statements on a direct connection either: the
  // plans are not kept server-side. When that changes, this says so, and the proxy's case above
  // still holds by `prepare: false`.
  it("are like a direct connection's while postgres.js fetches no types: no named statement either", async () => {
    expect(await preparedStatementsAfterQueries(false)).toBe(0);
  });
});
