CREATE TABLE "api_key_signing" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_key_signing_one_row" CHECK ("api_key_signing"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "signed" boolean DEFAULT false NOT NULL;