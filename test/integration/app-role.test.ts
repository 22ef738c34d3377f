import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { connect, type Database } from "../../shared/db/client.js";
import { APP_ROLE, ensureAppLogin } from "../../shared/db/roles.js";
import { testDatabase } from "../support/database.js";
import { useTestDb } from "../support/db.js";

// Prepare ------------------------------------------------------------------------------------

const target = testDatabase();
const db = useTestDb();
const user = `kapa_app_test_${randomUUID().replaceAll("-", "").slice(0, 8)}`;
let asApp: Database | undefined;

afterAll(async () => {
  await asApp?.close();
  if (target.kind === "postgres") await db.execute(sql.raw(`drop role if exists ${user}`));
});

// Act and assess -----------------------------------------------------------------------------

// The embedded database serves one session to every client: logins are a real Postgres matter.
describe.runIf(target.kind === "postgres")("the application role (drizzle/0007_app_role.sql)", () => {
  it("logs in as a user of the kapa_app role, which reads and writes rows of every table", async () => {
    await ensureAppLogin(db, user, `pw'${randomUUID()}`);
    // Twice: a redeploy finds the login there and only sets its password.
    await ensureAppLogin(db, user, `pw-${randomUUID()}`);
    const url = new URL(target.url);
    url.username = user;
    url.password = "";
    asApp = connect({ url: url.toString(), max: 1 });
    const [me] = await asApp.db.execute<{ member: boolean }>(
      sql`select pg_has_role(current_user, ${APP_ROLE}, 'member') as member`,
    );
    expect(me?.member).toBe(true);
    const teamId = randomUUID();
    await asApp.db.execute(sql`insert into teams (id, name) values (${teamId}::uuid, 'role test')`);
    await asApp.db.execute(sql`update teams set name = 'role test 2' where id = ${teamId}::uuid`);
    const [count] = await asApp.db.execute<{ n: string }>(sql`select count(*) as n from threads`);
    expect(Number(count?.n)).toBeGreaterThanOrEqual(0);
    await asApp.db.execute(sql`delete from teams where id = ${teamId}::uuid`);
  });

  it("may not change the schema, truncate, or read the migrations' own tables", async () => {
    const app = asApp as Database;
    for (const statement of [
      "create table app_role_should_fail (id int)",
      "drop table threads",
      "alter table threads add column x int",
      "truncate threads",
      "create index app_role_idx on threads (created_at)",
      "select * from drizzle.__drizzle_migrations",
    ]) {
      const error = await app.db.execute(sql.raw(statement)).then(
        () => undefined,
        (e: unknown) => e,
      );
      // insufficient_privilege: "permission denied ..." or "must be owner of ..."
      expect((error as { cause?: { code?: string } } | undefined)?.cause?.code, statement).toBe("42501");
    }
  });
});
