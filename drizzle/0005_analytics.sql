CREATE TABLE "thread_rollups" (
	"project_id" uuid NOT NULL,
	"grain_minutes" smallint NOT NULL,
	"slot_start" timestamp (3) with time zone NOT NULL,
	"category_id" uuid,
	"category_source" text,
	"threads" integer DEFAULT 0 NOT NULL,
	"questions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "thread_rollups_key" UNIQUE NULLS NOT DISTINCT("project_id","grain_minutes","slot_start","category_id","category_source")
);
--> statement-breakpoint
ALTER TABLE "thread_rollups" ADD CONSTRAINT "thread_rollups_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "question_answers_created_idx" ON "question_answers" USING btree ("created_at","thread_id");--> statement-breakpoint
-- The rollup is kept exact by statement-level triggers: each write statement's rows (transition
-- tables), pre-grouped by 15-minute slot and label, become one ordered upsert per grain, in the
-- same transaction as the write. Ordered upserts lock rollup rows in one order: no deadlocks
-- between concurrent writers. See docs/analytics.md.
CREATE FUNCTION thread_rollups_apply(
  d_project uuid[], d_slot timestamptz[], d_category uuid[], d_source text[], d_threads int[], d_questions int[]
) RETURNS void LANGUAGE sql AS $$
  INSERT INTO thread_rollups AS r (project_id, grain_minutes, slot_start, category_id, category_source, threads, questions)
  SELECT d.project_id, g.minutes,
         date_bin(make_interval(mins => g.minutes), d.slot, timestamptz '2000-01-01 00:00:00+00'),
         d.category_id, d.category_source, sum(d.threads), sum(d.questions)
  FROM unnest(d_project, d_slot, d_category, d_source, d_threads, d_questions)
         AS d(project_id, slot, category_id, category_source, threads, questions)
  CROSS JOIN (VALUES (15::smallint), (60::smallint), (360::smallint), (1440::smallint)) AS g(minutes)
  -- A project being deleted takes its rollup with it (cascade): nothing to count for it.
  WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = d.project_id)
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT ON CONSTRAINT thread_rollups_key
  DO UPDATE SET threads = r.threads + excluded.threads, questions = r.questions + excluded.questions
$$;
--> statement-breakpoint
-- Signed thread deltas (+1 a row as it is now, -1 as it was), netted per project, 15-minute slot
-- and label: an update that changes no label, time or project (question_count, the sweeper's
-- marks) nets to nothing and touches no rollup row.
CREATE FUNCTION thread_rollups_add_threads(
  d_project uuid[], d_created timestamptz[], d_category uuid[], d_source text[], d_n int[]
) RETURNS void LANGUAGE sql AS $$
  SELECT thread_rollups_apply(array_agg(project_id), array_agg(slot), array_agg(category_id),
                              array_agg(category_source), array_agg(n), array_fill(0, ARRAY[count(*)::int]))
  FROM (
    SELECT d.project_id, date_bin(interval '15 minutes', d.created_at, timestamptz '2000-01-01 00:00:00+00') AS slot,
           d.category_id, d.category_source, sum(d.n)::int AS n
    FROM unnest(d_project, d_created, d_category, d_source, d_n) AS d(project_id, created_at, category_id, category_source, n)
    GROUP BY 1, 2, 3, 4
    HAVING sum(d.n) <> 0
  ) AS deltas
  HAVING count(*) > 0
$$;
--> statement-breakpoint
-- Signed question deltas, by the time each question was asked, on the project's unlabelled row.
CREATE FUNCTION thread_rollups_add_questions(d_thread uuid[], d_created timestamptz[], d_n int[])
RETURNS void LANGUAGE sql AS $$
  SELECT thread_rollups_apply(array_agg(project_id), array_agg(slot), array_fill(NULL::uuid, ARRAY[count(*)::int]),
                              array_fill(NULL::text, ARRAY[count(*)::int]), array_fill(0, ARRAY[count(*)::int]),
                              array_agg(n))
  FROM (
    SELECT t.project_id, date_bin(interval '15 minutes', d.created_at, timestamptz '2000-01-01 00:00:00+00') AS slot,
           sum(d.n)::int AS n
    FROM unnest(d_thread, d_created, d_n) AS d(thread_id, created_at, n)
    JOIN threads t ON t.id = d.thread_id
    GROUP BY 1, 2
    HAVING sum(d.n) <> 0
  ) AS deltas
  HAVING count(*) > 0
$$;
--> statement-breakpoint
CREATE FUNCTION thread_rollups_threads_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM thread_rollups_add_threads(array_agg(project_id), array_agg(created_at), array_agg(category_id),
                                     array_agg(category_source), array_agg(1)) FROM new_rows;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION thread_rollups_threads_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM thread_rollups_add_threads(array_agg(project_id), array_agg(created_at), array_agg(category_id),
                                     array_agg(category_source), array_agg(n))
  FROM (SELECT project_id, created_at, category_id, category_source, 1 AS n FROM new_rows
        UNION ALL
        SELECT project_id, created_at, category_id, category_source, -1 AS n FROM old_rows) AS changes;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION thread_rollups_threads_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM thread_rollups_add_threads(array_agg(project_id), array_agg(created_at), array_agg(category_id),
                                     array_agg(category_source), array_agg(-1)) FROM old_rows;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION thread_rollups_questions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM thread_rollups_add_questions(array_agg(thread_id), array_agg(created_at), array_agg(1)) FROM new_rows;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION thread_rollups_questions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM thread_rollups_add_questions(array_agg(thread_id), array_agg(created_at), array_agg(n))
  FROM (SELECT thread_id, created_at, 1 AS n FROM new_rows
        UNION ALL
        SELECT thread_id, created_at, -1 AS n FROM old_rows) AS changes;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION thread_rollups_questions_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM thread_rollups_add_questions(array_agg(thread_id), array_agg(created_at), array_agg(-1)) FROM old_rows;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER thread_rollups_threads_insert AFTER INSERT ON threads
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION thread_rollups_threads_inserted();
--> statement-breakpoint
CREATE TRIGGER thread_rollups_threads_update AFTER UPDATE ON threads
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION thread_rollups_threads_updated();
--> statement-breakpoint
CREATE TRIGGER thread_rollups_threads_delete AFTER DELETE ON threads
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION thread_rollups_threads_deleted();
--> statement-breakpoint
CREATE TRIGGER thread_rollups_questions_insert AFTER INSERT ON question_answers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION thread_rollups_questions_inserted();
--> statement-breakpoint
CREATE TRIGGER thread_rollups_questions_update AFTER UPDATE ON question_answers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION thread_rollups_questions_updated();
--> statement-breakpoint
CREATE TRIGGER thread_rollups_questions_delete AFTER DELETE ON question_answers
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION thread_rollups_questions_deleted();
--> statement-breakpoint
-- The rows that exist already (the triggers above hold the tables' locks until this commits).
SELECT thread_rollups_add_threads(array_agg(project_id), array_agg(created_at), array_agg(category_id),
                                  array_agg(category_source), array_agg(1)) FROM threads;
--> statement-breakpoint
SELECT thread_rollups_add_questions(array_agg(thread_id), array_agg(created_at), array_agg(1)) FROM question_answers;
