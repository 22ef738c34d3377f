CREATE TABLE "thread_label_changes" (
	"thread_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "thread_label_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"project_id" uuid NOT NULL,
	"category_id" uuid,
	"category_name" text,
	"previous_category_id" uuid,
	"previous_category_name" text,
	"source" text NOT NULL,
	"actor" text NOT NULL,
	"confidence" real,
	"rationale" text,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "thread_label_changes_thread_id_id_pk" PRIMARY KEY("thread_id","id"),
	CONSTRAINT "thread_label_changes_source_check" CHECK ("thread_label_changes"."source" in ('classifier', 'user', 'system'))
);
--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "review_threshold" double precision DEFAULT 0.5 NOT NULL;--> statement-breakpoint
ALTER TABLE "thread_label_changes" ADD CONSTRAINT "thread_label_changes_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "thread_label_changes_classifier_idx" ON "thread_label_changes" USING btree ("project_id","at") WHERE "thread_label_changes"."source" = 'classifier';--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_review_threshold_check" CHECK ("projects"."review_threshold" between 0 and 1);