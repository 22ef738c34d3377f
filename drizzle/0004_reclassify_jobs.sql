CREATE TABLE "backfill_jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid,
	"scope" text NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "backfill_jobs_running_key" ON "backfill_jobs" USING btree (coalesce("project_id", '00000000-0000-0000-0000-000000000000'::uuid),"scope") WHERE "backfill_jobs"."finished_at" is null;