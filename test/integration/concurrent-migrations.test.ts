import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { runConcurrentMigrations } from "../../shared/db/migrate.js";
import { useTestDb } from "../support/db.js";

// Prepare ------------------------------------------------------------------------------------

const db = useTestDb();
const folder = mkdtempSync(join(tmpdir(), "kapa-concurrent-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const suffix = randomUUID().replaceAll("-", "").slice(0, 10);
const table = `test_big_${suffix}`;
const index = `test_big_${suffix}_idx`;

async function indexState(name: string): Promise<{ valid: boolean } | undefined> {
  const rows = await db.execute<{ valid: boolean }>(sql`
    select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = ${name}`);
  return rows[0];
}

// Act and assess -----------------------------------------------------------------------------

describe("concurrent migrations (drizzle/concurrent)", () => {
  it("built the threads index of the committed migrations, valid", async () => {
    expect(await indexState("threads_project_id_idx")).toEqual({ valid: true });
    const [recorded] = await db.execute<{ n: string | number }>(
      sql`select count(*) as n from kapa_concurrent_migrations where tag = '0003_threads_project_id_idx'`,
    );
    expect(Number(recorded?.n)).toBe(1);
  });

  it("runs each statement outside a transaction (Postgres refuses CONCURRENTLY in one), once per file", async () => {
    await db.execute(sql.raw(`create table ${table} (id uuid primary key, project_id uuid not null)`));
    const statement = `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${index}" ON "${table}" ("project_id", "id")`;
    await expect(db.transaction((tx) => tx.execute(sql.raw(statement)))).rejects.toThrow();
    writeFileSync(join(folder, `9000_${suffix}.sql`), `-- a test index\n${statement};\n--> statement-breakpoint\n`);

    expect(await runConcurrentMigrations(db, folder)).toEqual([`9000_${suffix}`]);
    expect(await indexState(index)).toEqual({ valid: true });
    expect(await runConcurrentMigrations(db, folder)).toEqual([]);
  });

  it("rebuilds an index a failed concurrent build left INVALID, which IF NOT EXISTS alone would keep", async () => {
    await db.execute(
      sql.raw(
        `update pg_index set indisvalid = false where indexrelid = (select oid from pg_class where relname = '${index}')`,
      ),
    );
    await db.execute(sql`delete from kapa_concurrent_migrations where tag = ${`9000_${suffix}`}`);
    expect(await indexState(index)).toEqual({ valid: false });

    expect(await runConcurrentMigrations(db, folder)).toEqual([`9000_${suffix}`]);
    expect(await indexState(index)).toEqual({ valid: true });
    await db.execute(sql.raw(`drop table ${table}`));
  });
});
