-- threads_unlabelled_project_due_idx (shared/db/schema.ts): the sweeper's per-project share, built without blocking inserts into threads.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_unlabelled_project_due_idx" ON "threads" USING btree ("project_id",coalesce("classification_requested_at", "created_at")) WHERE "threads"."category_id" is null;
