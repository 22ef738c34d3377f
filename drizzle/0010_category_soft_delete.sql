DROP INDEX "categories_project_name_key";--> statement-breakpoint
ALTER TABLE "backfill_jobs" ADD COLUMN "pending" integer;--> statement-breakpoint
ALTER TABLE "backfill_jobs" ADD COLUMN "progressed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "categories" ADD COLUMN "deleted_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "categories_project_idx" ON "categories" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "categories_deleted_idx" ON "categories" USING btree ("deleted_at") WHERE "categories"."deleted_at" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "categories_project_name_key" ON "categories" USING btree ("project_id",lower("name")) WHERE "categories"."deleted_at" is null;