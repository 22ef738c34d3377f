import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { logger } from "../platform/logger.js";
import type { Db } from "./client.js";
import { classifyDbError } from "./errors.js";

export function defaultMigrationsFolder(): string {
  return process.env.MIGRATIONS_DIR ?? fileURLToPath(new URL("../../drizzle", import.meta.url));
}

/** Where the statements that must run outside a transaction live, under the migrations folder. */
export const CONCURRENT_FOLDER = "concurrent";

/**
 * Applies the committed drizzle-kit migrations, then the concurrent ones. Each drizzle migration
 * runs in one transaction, so when two processes race (npm start and `kapa migrate`), the loser
 * fails without a trace and its retry finds the work done. That first failure is logged (a
 * warning: the retry decides), and only a database failure is retried: a missing folder or a
 * broken journal fails at once. A failed retry throws its own error.
 */
export async function runMigrations(db: Db, migrationsFolder = defaultMigrationsFolder()): Promise<void> {
  try {
    await migrate(db, { migrationsFolder });
  } catch (error) {
    if (!classifyDbError(error)) throw error;
    logger.warn("migrations failed, retrying once (another process may be migrating)", { error });
    await migrate(db, { migrationsFolder });
  }
  await runConcurrentMigrations(db, join(migrationsFolder, CONCURRENT_FOLDER));
}

const INDEX_NAME = /^\s*create\s+(?:unique\s+)?index\s+concurrently\s+if\s+not\s+exists\s+"?([A-Za-z0-9_]+)"?/i;

/**
 * The statements of `drizzle/concurrent/*.sql`, in file-name order, each on its own outside any
 * transaction: `CREATE INDEX CONCURRENTLY` on a big table (threads) builds the index without
 * blocking inserts, and Postgres refuses it inside a transaction block, which drizzle's migrator
 * always opens (docs/migrations.md). Statements are separated by `--> statement-breakpoint` and
 * must be idempotent (`IF NOT EXISTS`): they run again until their file is recorded in
 * `kapa_concurrent_migrations`. A concurrent build that failed leaves an INVALID index of that
 * name, which `IF NOT EXISTS` would keep: it is dropped (concurrently) and built again.
 */
export async function runConcurrentMigrations(db: Db, folder: string): Promise<string[]> {
  if (!existsSync(folder)) return [];
  await db.execute(sql`create table if not exists kapa_concurrent_migrations (
    tag text primary key, applied_at timestamptz not null default now())`);
  const done = new Set(
    (await db.execute<{ tag: string }>(sql`select tag from kapa_concurrent_migrations`)).map((r) => r.tag),
  );
  const applied: string[] = [];
  for (const file of readdirSync(folder)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const tag = file.replace(/\.sql$/, "");
    if (done.has(tag)) continue;
    const statements = readFileSync(join(folder, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter((s) => s.replace(/--.*$/gm, "").trim() !== "");
    for (const statement of statements) {
      const index = INDEX_NAME.exec(statement.replace(/--.*$/gm, ""))?.[1];
      if (index) await dropInvalidIndex(db, index);
      await db.execute(sql.raw(statement));
    }
    await db.execute(sql`insert into kapa_concurrent_migrations (tag) values (${tag}) on conflict do nothing`);
    applied.push(tag);
  }
  return applied;
}

async function dropInvalidIndex(db: Db, name: string): Promise<void> {
  const invalid = await db.execute<{ name: string }>(sql`
    select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
    where c.relname = ${name} and not i.indisvalid`);
  if (invalid.length > 0) await db.execute(sql.raw(`drop index concurrently if exists "${name}"`));
}
