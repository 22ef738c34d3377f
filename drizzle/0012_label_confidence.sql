ALTER TABLE "threads" ADD COLUMN "category_confidence" real;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "category_rationale" text;--> statement-breakpoint
ALTER TABLE "threads" ADD CONSTRAINT "threads_category_confidence_check" CHECK ("threads"."category_confidence" between 0 and 1) NOT VALID;--> statement-breakpoint
ALTER TABLE "threads" VALIDATE CONSTRAINT "threads_category_confidence_check";
