CREATE TABLE "categories" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "category_id" uuid;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "category_source" text;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "classified_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "classification_requested_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "categories" ADD CONSTRAINT "categories_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "categories_project_name_key" ON "categories" USING btree ("project_id",lower("name"));--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "threads_project_category_idx" ON "threads" USING btree ("project_id","category_id","created_at","id");--> statement-breakpoint
CREATE INDEX "threads_project_source_idx" ON "threads" USING btree ("project_id","category_source","created_at","id");--> statement-breakpoint
CREATE INDEX "threads_unlabelled_idx" ON "threads" USING btree ("id") WHERE "threads"."category_id" is null;--> statement-breakpoint
CREATE INDEX "threads_unlabelled_due_idx" ON "threads" USING btree (coalesce("classification_requested_at", "created_at")) WHERE "threads"."category_id" is null;--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_category_source_check" CHECK ("threads"."category_source" in ('classifier', 'user'));
--> statement-breakpoint
-- Projects that exist before categories get the defaults every new project gets (shared/categories/defaults.ts).
INSERT INTO "categories" ("project_id", "name", "description")
SELECT p."id", d."name", d."description"
FROM "projects" p
CROSS JOIN (VALUES
  ('Discovery', 'A user is trying to figure out how to do something'),
  ('Troubleshooting', 'A user is asking for help with a problem')
) AS d("name", "description")
ON CONFLICT DO NOTHING;
