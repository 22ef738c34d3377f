-- threads_review_idx (shared/db/schema.ts): the review queue, built without blocking inserts into threads.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "threads_review_idx" ON "threads" USING btree ("project_id","category_confidence","id") WHERE "threads"."category_source" = 'classifier';
