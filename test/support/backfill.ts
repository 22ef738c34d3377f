import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { type LocalBackfill, type LocalBackfillOptions, startLocalBackfill } from "../../local/backfill.js";
import { HARNESS_CACHE_DIR } from "../../local/harness.js";
import type { LocalExecution } from "../../local/step-functions.js";
import { executionArn } from "../../shared/backfill/executions.js";
import type { Job } from "../../shared/backfill/service.js";
import type { Db } from "../../shared/db/client.js";
import { loadEnv } from "../../shared/platform/config.js";

/**
 * The backfill state machine of the stack with small pages (the context overrides CDK
 * synthesizes it with), run by the local Step Functions, its classifier on a queue of the test's
 * own: each Plan a page of three 100-id ranges, 3 ranges enqueued at once.
 */
export const SMALL_PAGES = {
  "kapa:backfillPageSize": 300,
  "kapa:backfillRangeSize": 100,
  "kapa:backfillMapConcurrency": 3,
};

export function startTestBackfill(options: Partial<LocalBackfillOptions> = {}): Promise<LocalBackfill> {
  return startLocalBackfill({
    env: loadEnv(),
    visibilityTimeoutSeconds: 1,
    sfnPort: 0,
    maxConcurrency: 4,
    queueName: `kapa-test-backfill-${randomUUID().slice(0, 8)}`,
    // Shared by the test files and runs: synthesized once per change of the infra code.
    cacheDir: HARNESS_CACHE_DIR,
    context: SMALL_PAGES,
    retryIntervalOverrides: { Plan: 20, EnqueueRange: 20 },
    // In this thread, where the tests can reach the handlers' runtime (the CLI test covers workers).
    tasksIn: "this-thread",
    ...options,
  });
}

/** Waits for a job's execution to stop. */
export function executionOf(backfill: LocalBackfill, job: Job): Promise<LocalExecution> {
  return backfill.stepFunctions.waitFor(executionArn(backfill.stateMachineArn, job.execution));
}

/**
 * Counts the classifier's label writes per thread, whatever code makes them: a trigger records
 * every update that sets a classifier label. Names are the file's own (files share the database).
 */
export async function recordClassifierWrites(db: Db) {
  const tag = randomUUID().replaceAll("-", "").slice(0, 12);
  const table = sql.raw(`test_writes_${tag}`);
  const fn = sql.raw(`test_record_write_${tag}`);
  await db.execute(sql`create table ${table} (thread_id uuid not null)`);
  await db.execute(
    sql.raw(`
    create function test_record_write_${tag}() returns trigger language plpgsql as $$
    begin insert into test_writes_${tag} values (new.id); return new; end $$`),
  );
  await db.execute(sql`
    create trigger ${table} after update on threads for each row
    when (new.category_source = 'classifier' and new.classified_at is distinct from old.classified_at)
    execute function ${fn}()`);
  return {
    /** Writes per thread of the project (0 for those never written). */
    async perThread(projectId: string): Promise<Map<string, number>> {
      const rows = await db.execute<{ id: string; writes: string | number }>(sql`
        select t.id, (select count(*) from ${table} w where w.thread_id = t.id) as writes
        from threads t where t.project_id = ${projectId}::uuid`);
      return new Map(rows.map((r) => [r.id, Number(r.writes)]));
    },
    async drop() {
      await db.execute(sql`drop trigger if exists ${table} on threads`);
      await db.execute(sql`drop function if exists ${fn}()`);
      await db.execute(sql`drop table if exists ${table}`);
    },
  };
}

export interface ThreadLabel {
  id: string;
  categoryId: string | null;
  source: string | null;
  classifiedAt: Date | null;
}

export async function labelsOf(db: Db, projectId: string): Promise<ThreadLabel[]> {
  const rows = await db.execute<{
    id: string;
    category_id: string | null;
    source: string | null;
    at: string | null;
  }>(sql`
    select id, category_id, category_source as source, classified_at as at from threads
    where project_id = ${projectId}::uuid order by id`);
  return rows.map((r) => ({
    id: r.id,
    categoryId: r.category_id,
    source: r.source,
    classifiedAt: r.at ? new Date(r.at) : null,
  }));
}
