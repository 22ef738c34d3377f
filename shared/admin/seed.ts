import { sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { createProject, createTeam } from "./tenants.js";

/**
 * Bulk seed data for backfills and benchmarks: many threads with realistic first questions and
 * follow-ups, spread over many projects, all unlabelled (as the threads that existed before
 * classification). Inserted by `INSERT ... SELECT generate_series` in chunks, each chunk one
 * statement that writes the threads and their question_answers together.
 */
export interface SeedThreadsOptions {
  count: number;
  /** New projects (with the default categories) the threads are spread over, round robin. */
  projects: number;
  /** Spread them over these existing projects instead. */
  projectIds?: readonly string[];
  /** The team the projects belong to: a new "Seed team" when unset. */
  teamId?: string;
  /** Threads per statement. @default 100000 */
  chunk?: number;
  /** Spread the threads' creation over this many days before now. @default 90 */
  days?: number;
  /** Statements at a time (connections of the pool). @default 2 */
  parallel?: number;
  onProgress?: (inserted: number) => void;
}

export interface SeededThreads {
  /** The new projects' team (null when given existing projects). */
  teamId: string | null;
  projectIds: string[];
  threads: number;
  questionAnswers: number;
  seconds: number;
}

const TOPICS = [
  "SSO",
  "API keys",
  "webhooks",
  "the CLI",
  "rate limits",
  "billing",
  "the Python SDK",
  "the TypeScript SDK",
  "deployments",
  "search indexing",
  "user roles",
  "CSV exports",
  "the dashboard",
  "the Slack integration",
  "audit logs",
  "data retention",
];

const FORMS = [
  "How do I configure {}?",
  "How do I set up {} for my team?",
  "Is there a way to automate {}?",
  "Why does {} return a 500 error?",
  "I get 'permission denied' when I use {}, what am I missing?",
  "{} stopped working after the upgrade, how do I fix it?",
  "What are the limits of {} on the free plan?",
  "Can I use {} with Kubernetes?",
  "How do I migrate {} from v1 to v2?",
  "Error 429 when calling {}: how do I troubleshoot this?",
  "Are there open positions on the team that builds {}?",
  "Where are the terms of service that cover {}?",
];

const FOLLOW_UPS = [
  "Thanks! And how do I roll that back?",
  "That did not work, I still see the same error.",
  "Is this documented somewhere?",
  "Does the same apply to the staging environment?",
];

const textArray = (values: readonly string[]) =>
  sql.raw(`array[${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ")}]`);

/** Deterministic pseudo-random pick of `array` for the integer expression `n`. */
const pick = (array: readonly string[], n: string) =>
  sql`(${textArray(array)})[1 + (((${sql.raw(n)})::bigint * 2654435761) % 4294967296) % ${array.length}::int]`;

export async function seedThreads(db: Db, options: SeedThreadsOptions): Promise<SeededThreads> {
  const started = Date.now();
  let teamId = options.teamId ?? null;
  const projectIds = [...(options.projectIds ?? [])];
  if (projectIds.length === 0) {
    teamId ??= (await createTeam(db, { name: `Seed team ${new Date().toISOString()}` })).id;
    for (let i = 1; i <= options.projects; i++) {
      projectIds.push((await createProject(db, { teamId, name: `Seed project ${i}`, product: `Product ${i}` })).id);
    }
  }
  const ids = projectIds.join(",");
  const chunk = options.chunk ?? 100_000;
  const days = options.days ?? 90;
  let questionAnswers = 0;
  let inserted = 0;
  const insertChunk = async (from: number, to: number) => {
    const rows = await db.execute<{ n: string | number }>(sql`
      with new_threads as (
        insert into threads (project_id, created_at, first_question, question_count)
        select (string_to_array(${ids}, ','))[1 + g % ${projectIds.length}::int]::uuid,
               now() - make_interval(secs => ${days}::int * 86400.0 * g / ${options.count}::int),
               initcap(left(q, 1)) || substr(q, 2),
               (array[1, 1, 1, 1, 1, 1, 2, 2, 2, 3])[1 + (g::bigint * 31) % 10]
        from generate_series(${from}::int, ${to}::int) g,
             lateral (select replace(${pick(FORMS, "g")}, '{}', ${pick(TOPICS, "g / 7")}) as q) question
        returning id, created_at, first_question, question_count
      ), answers as (
        insert into question_answers (thread_id, position, question, answer, created_at)
        select t.id, n,
               case when n = 1 then t.first_question else ${pick(FOLLOW_UPS, "n + length(t.first_question)")} end,
               'Here is what the documentation says: open the settings, choose the option, and save. See the guide for details.',
               t.created_at + (n - 1) * interval '2 minutes'
        from new_threads t cross join lateral generate_series(1, t.question_count) n
        returning 1
      )
      select count(*) as n from answers`);
    questionAnswers += Number(rows[0]?.n ?? 0);
    inserted += to - from + 1;
    options.onProgress?.(inserted);
  };
  // Two statements at a time: Postgres inserts on one core per statement.
  const starts = Array.from({ length: Math.ceil(options.count / chunk) }, (_, i) => 1 + i * chunk);
  const parallel = options.parallel ?? 2;
  await Promise.all(
    Array.from({ length: parallel }, async (_, worker) => {
      for (let i = worker; i < starts.length; i += parallel) {
        const from = starts[i] as number;
        await insertChunk(from, Math.min(options.count, from + chunk - 1));
      }
    }),
  );
  await db.execute(sql`
    update projects set thread_count = (select count(*) from threads where threads.project_id = projects.id)
    where id = any(string_to_array(${ids}, ',')::uuid[])`);
  await db.execute(sql`analyze threads`);
  await db.execute(sql`analyze question_answers`);
  return {
    teamId,
    projectIds,
    threads: options.count,
    questionAnswers,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
