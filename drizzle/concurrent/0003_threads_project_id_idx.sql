-- threads_project_id_idx (shared/db/schema.ts): built without blocking inserts into threads.
-- Was in 0003_backfill.sql, inside drizzle's transaction; databases migrated then have it already.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_project_id_idx" ON "threads" USING btree ("project_id","id");
