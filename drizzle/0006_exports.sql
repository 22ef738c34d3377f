CREATE TABLE "thread_exports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"format" text NOT NULL,
	"include_questions" boolean DEFAULT false NOT NULL,
	"filters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"rows" integer DEFAULT 0 NOT NULL,
	"s3_key" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "thread_exports_status_check" CHECK ("thread_exports"."status" in ('running', 'done', 'failed')),
	CONSTRAINT "thread_exports_format_check" CHECK ("thread_exports"."format" in ('csv', 'ndjson'))
);
--> statement-breakpoint
ALTER TABLE "thread_exports" ADD CONSTRAINT "thread_exports_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "thread_exports_project_idx" ON "thread_exports" USING btree ("project_id","created_at");