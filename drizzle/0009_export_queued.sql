ALTER TABLE "thread_exports" DROP CONSTRAINT "thread_exports_status_check";--> statement-breakpoint
ALTER TABLE "thread_exports" ALTER COLUMN "status" SET DEFAULT 'queued';--> statement-breakpoint
CREATE INDEX "thread_exports_unfinished_idx" ON "thread_exports" USING btree ("project_id") WHERE "thread_exports"."status" in ('queued', 'running');--> statement-breakpoint
ALTER TABLE "thread_exports" ADD CONSTRAINT "thread_exports_status_check" CHECK ("thread_exports"."status" in ('queued', 'running', 'done', 'failed'));