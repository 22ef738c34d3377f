CREATE TABLE "label_examples" (
	"thread_id" uuid PRIMARY KEY NOT NULL,
	"category_id" uuid NOT NULL,
	"question" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "label_examples" ADD CONSTRAINT "label_examples_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "label_examples" ADD CONSTRAINT "label_examples_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "label_examples_category_created_idx" ON "label_examples" USING btree ("category_id","created_at","thread_id");