import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { backfillMachineId, type LocalMachineDefinition, resolveStateMachine } from "../../local/state-machine.js";
import type { LocalExecution, LocalTask } from "../../local/step-functions.js";
import { executionArn } from "../../shared/backfill/executions.js";
import type { Job } from "../../shared/backfill/service.js";
import type { Db } from "../../shared/db/client.js";
import type { TestWorld, TestWorldOptions, WorldPlace } from "./local-world.js";
import { startTestWorld } from "./world.js";

/**
 * The backfill state machine of the stack with small pages (the context overrides CDK
 * synthesizes it with), run by the local world's Step Functions: each Plan a page of three
 * 100-id ranges, 3 ranges enqueued at once.
 */
export const SMALL_PAGES = {
  "kapa:backfillPageSize": 300,
  "kapa:backfillRangeSize": 100,
  "kapa:backfillMapConcurrency": 3,
};

export interface TestBackfillOptions extends Partial<TestWorldOptions> {
  /** Wraps a state's task (the fault hook of the world, per state of the machine). */
  wrapTask?: (state: string, task: LocalTask) => LocalTask;
  /** A database of the file's own. @default the run's */
  database?: WorldPlace["database"];
}

/** A `wrapTask` that wraps the task of `state` only; the other states run as they are. */
export function wrapState(state: string, wrap: (task: LocalTask) => LocalTask) {
  return (name: string, task: LocalTask): LocalTask => (name === state ? wrap(task) : task);
}

/** A promise that stays pending until the test opens it: a task awaiting it is held until then. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

export interface TestBackfill extends TestWorld {
  stateMachineArn: string;
  stepFunctions: TestWorld["world"]["stepFunctions"];
  machine: LocalMachineDefinition;
}

/**
 * The local world with small pages and short retries, the classifier on the backfill queue only
 * (unless `consumers` says otherwise). This process starts and reads jobs with reclassify-start's
 * variables in the world (its state machine, its queue).
 */
export async function startTestBackfill(options: TestBackfillOptions = {}): Promise<TestBackfill> {
  const { wrapTask, database, ...rest } = options;
  let statesOf: (functionId: string) => string[] = () => [];
  const world = await startTestWorld(
    {
      label: "backfill",
      context: SMALL_PAGES,
      // A failed batch comes back after a second.
      deviations: { visibilityTimeoutSeconds: 1 },
      retryIntervalOverrides: { Plan: 20, EnqueueRange: 20 },
      consumers: ["classifier:BackfillQueueUrl"],
      wrapInvoke: (functionId, event, invoke) => {
        const [state] = statesOf(functionId);
        if (!wrapTask || !state) return invoke(event);
        return wrapTask(state, invoke as LocalTask)(event as Parameters<LocalTask>[0]);
      },
      ...rest,
    },
    database,
  );
  const ids = new Map(Object.keys(world.topology.functions).map((id) => [id, id]));
  const machineId = backfillMachineId(world.stack.template);
  const machine = resolveStateMachine(world.stack.template, machineId, ids);
  statesOf = (functionId) =>
    Object.entries(machine.tasks)
      .filter(([, fn]) => fn === functionId)
      .map(([state]) => state);
  world.actAs("reclassify-start");
  const stateMachineArn = world.world.stateMachines.get(machineId) as string;
  return Object.assign(world, { stateMachineArn, stepFunctions: world.world.stepFunctions, machine });
}

/** Waits for a job's execution to stop. */
export function executionOf(backfill: TestBackfill, job: Job): Promise<LocalExecution> {
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
