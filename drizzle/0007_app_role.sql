-- The application role (docs/aws-operations.md, "Database roles"): what the API, classifier,
-- sweeper, backfill and report functions may do. Rows only: no DDL, no TRUNCATE, owns nothing,
-- nothing in the drizzle schema. A group role without login: the login users (kapa_app_user, and
-- the clone Secrets Manager's alternating-users rotation creates) are granted it
-- (shared/db/roles.ts); the migrations keep running as the owner.
DO $$ BEGIN
  CREATE ROLE kapa_app NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO kapa_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO kapa_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO kapa_app;
--> statement-breakpoint
-- Tables and sequences later migrations create (as the same owner) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kapa_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO kapa_app;
