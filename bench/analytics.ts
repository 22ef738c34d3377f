import { sql } from "drizzle-orm";
import { createTenant, type Tenant } from "../shared/admin/tenants.js";
import type { Db } from "../shared/db/client.js";
import { ThreadsRepository } from "../shared/threads/repository.js";
import { benchEnvironment, report, type Stats, stats, timeIt } from "./lib.js";

/**
 * `npm run bench analytics`: GET analytics/categories/ over HTTP for one project with 1,000,000
 * threads over two years (90 daily buckets, 104 weekly buckets, in UTC, Berlin and Kolkata),
 * while a writer keeps labelling threads; beside it, the same counts by one GROUP BY over the
 * threads (the index-only plan the rollup replaces), and what the rollup's triggers add to writes.
 */
const DAY = 86_400_000;
const END = Date.parse("2026-11-02T00:00:00Z"); // a Monday
const SPAN = 730 * DAY;

/** Threads spread evenly over two years before END, labelled like a classified project, in chunks. */
async function seed(db: Db, projectId: string, count: number, categoryIds: string[]): Promise<void> {
  const stepMs = SPAN / count;
  const categories = sql`array[${sql.join(
    categoryIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  )}]`;
  const chunk = 100_000;
  for (let first = 1; first <= count; first += chunk) {
    const last = Math.min(count, first + chunk - 1);
    await db.execute(sql`
      insert into threads (id, project_id, created_at, first_question, question_count, category_id, category_source, classified_at)
      select gen_random_uuid(), ${projectId},
             ${new Date(END).toISOString()}::timestamptz - (g * ${stepMs}::float8 * interval '1 millisecond'),
             'Seeded question ' || g, 1 + (g % 3 = 0)::int,
             case when (g::bigint * 7919) % 100 < 10 then null else (${categories})[1 + g % ${categoryIds.length}::int] end,
             case when (g::bigint * 7919) % 100 < 10 then null when (g::bigint * 7919) % 100 < 15 then 'user' else 'classifier' end,
             case when (g::bigint * 7919) % 100 < 10 then null else now() end
      from generate_series(${first}::int, ${last}::int) g`);
  }
  // One question per thread when it was created, a follow-up five minutes later for every third.
  for (const followUp of [false, true]) {
    await db.execute(sql`
      insert into question_answers (thread_id, position, question, answer, created_at)
      select id, ${followUp ? 2 : 1}, first_question, 'answer', created_at + ${followUp ? sql`interval '5 minutes'` : sql`interval '0'`}
      from threads where project_id = ${projectId} ${followUp ? sql`and question_count = 2` : sql``}`);
  }
  await db.execute(sql`update projects set thread_count = ${count} where id = ${projectId}`);
  await db.execute(sql`analyze`);
}

async function measure(url: string, tenant: Tenant, samples: number, expectBuckets?: number): Promise<Stats> {
  const times: number[] = [];
  for (let i = 0; i < samples + 20; i++) {
    const elapsed = await timeIt(async () => {
      const response = await fetch(url, { headers: { "X-API-KEY": tenant.apiKey } });
      const body = (await response.json()) as { buckets?: unknown[]; detail?: string };
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${body.detail}`);
      if (expectBuckets !== undefined && body.buckets?.length !== expectBuckets) {
        throw new Error(`expected ${expectBuckets} buckets`);
      }
    });
    if (i >= 20) times.push(elapsed);
  }
  return stats(times);
}

/** Labels keep arriving: batches of 10 classifier labels (the classifier's conditional UPDATE) at `perSecond`. */
function startLabelWriter(db: Db, projectId: string, categoryIds: string[], ids: string[], perSecond: number) {
  let running = true;
  let written = 0;
  let failure: unknown;
  const started = Date.now();
  const loop = (async () => {
    while (running) {
      const batch = Array.from({ length: 10 }, () => ids[Math.floor(Math.random() * ids.length)] as string);
      const category = categoryIds[Math.floor(Math.random() * categoryIds.length)] as string;
      await db.execute(sql`
        update threads set category_id = ${category}, category_source = 'classifier', classified_at = now()
        where project_id = ${projectId} and category_source is distinct from 'user'
          and id in (${sql.join(
            batch.map((id) => sql`${id}::uuid`),
            sql`, `,
          )})`);
      written += 10;
      const due = started + (written / perSecond) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  return {
    async stop() {
      running = false;
      await loop;
      if (failure) throw failure;
      return { labels: written, per_second: Math.round((written / (Date.now() - started)) * 1000) };
    },
  };
}

/** The alternative: the same counts straight from the threads' index, one GROUP BY (no rollup). */
async function groupByPlan(db: Db, projectId: string, from: number, grain: "day" | "week", samples: number) {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    times.push(
      await timeIt(() =>
        db.execute(sql`
          select date_trunc(${grain}, created_at at time zone 'Europe/Berlin') as bucket, category_id, category_source, count(*)
          from threads where project_id = ${projectId}
            and created_at >= ${new Date(from).toISOString()} and created_at < ${new Date(END).toISOString()}
          group by 1, 2, 3`),
      ),
    );
  }
  return stats(times);
}

/** New threads with a follow-up each, with the rollup triggers on and off, alternating blocks. */
async function writeOverhead(db: Db, projectId: string, blocks: number, perBlock: number) {
  const repo = new ThreadsRepository(db);
  const samples: Record<"on" | "off", number[]> = { on: [], off: [] };
  const triggers = ["thread_rollups_threads_insert", "thread_rollups_threads_update"];
  const setTriggers = async (on: boolean) => {
    for (const name of triggers) {
      await db.execute(sql.raw(`alter table threads ${on ? "enable" : "disable"} trigger ${name}`));
    }
    await db.execute(
      sql.raw(`alter table question_answers ${on ? "enable" : "disable"} trigger thread_rollups_questions_insert`),
    );
  };
  for (let block = 0; block < blocks * 2; block++) {
    const on = block % 2 === 0;
    await setTriggers(on);
    for (let i = 0; i < perBlock; i++) {
      const id = crypto.randomUUID();
      samples[on ? "on" : "off"].push(
        await timeIt(async () => {
          await repo.createThread(projectId, id, "How do I deploy?", "Like this.");
          await repo.appendAnswer(projectId, id, "And roll back?", "Like that.");
        }),
      );
    }
  }
  await setTriggers(true);
  return { on: stats(samples.on), off: stats(samples.off) };
}

/** The trend requests measured: 90 daily and 104 weekly buckets in three time zones. */
function trendCases(base: string) {
  const url = (interval: string, tz: string, from: string, to: string) =>
    `${base}?interval=${interval}&tz=${tz}&created_after=${encodeURIComponent(from)}&created_before=${encodeURIComponent(to)}`;
  const zones = [
    ["UTC", "+00:00"],
    ["Europe/Berlin", "+01:00"],
    ["Asia/Kolkata", "+05:30"],
  ] as const;
  const daily = (tz: string, summer: string, winter: string) =>
    url("day", tz, `2026-08-04T00:00:00${summer}`, `2026-11-02T00:00:00${winter}`);
  const weekly = (tz: string, offset: string) =>
    url("week", tz, `2024-11-04T00:00:00${offset}`, `2026-11-02T00:00:00${offset}`);
  return [
    ...zones.map(([tz, offset]) => ({
      buckets: "90 daily",
      tz,
      url: daily(tz, tz === "Europe/Berlin" ? "+02:00" : offset, offset),
      n: 90,
    })),
    ...zones.map(([tz, offset]) => ({ buckets: "104 weekly", tz, url: weekly(tz, offset), n: 104 })),
  ];
}

export async function benchAnalytics(
  count = Number(process.env.BENCH_ANALYTICS_THREADS ?? 1_000_000),
  samples = Number(process.env.BENCH_ANALYTICS_SAMPLES ?? 300),
): Promise<void> {
  const env = await benchEnvironment({ LLM_DELAY_MS: "0" });
  try {
    const db = env.database.db;
    const tenant = await createTenant(db, "analytics");
    for (const name of ["Careers", "Legal"]) {
      await db.execute(sql`insert into categories (project_id, name) values (${tenant.projectId}, ${name})`);
    }
    const categoryRows = await db.execute<{ id: string }>(
      sql`select id from categories where project_id = ${tenant.projectId} order by name`,
    );
    const categoryIds = categoryRows.map((r) => r.id);
    const seedSeconds = (await timeIt(() => seed(db, tenant.projectId, count, categoryIds))) / 1000;
    const recent = await db.execute<{ id: string }>(sql`
      select id from threads where project_id = ${tenant.projectId}
        and created_at >= ${new Date(END - 90 * DAY).toISOString()} limit 20000`);
    const cases = trendCases(`${env.url}/query/v1/projects/${tenant.projectId}/analytics/categories/`);
    const listUrl = `${env.url}/query/v1/projects/${tenant.projectId}/threads/?limit=100`;
    const writer = startLabelWriter(
      db,
      tenant.projectId,
      categoryIds,
      recent.map((r) => r.id),
      100,
    );
    const rows: Record<string, unknown>[] = [];
    try {
      for (const c of cases) {
        rows.push({ buckets: c.buckets, tz: c.tz, ...(await measure(c.url, tenant, samples, c.n)) });
      }
      // A yardstick for the machine's load at the time: the threads list's first page (1.6 ms p50 unloaded).
      rows.push({ buckets: "yardstick: threads/?limit=100", tz: "", ...(await measure(listUrl, tenant, samples)) });
    } catch (error) {
      await writer.stop().catch(() => {});
      throw error;
    }
    const labelling = await writer.stop();
    const groupBy = {
      day90: await groupByPlan(db, tenant.projectId, END - 90 * DAY, "day", 20),
      week104: await groupByPlan(db, tenant.projectId, END - 104 * 7 * DAY, "week", 10),
    };
    rows.push({ buckets: "90 daily, GROUP BY threads (no rollup, SQL only)", tz: "Europe/Berlin", ...groupBy.day90 });
    rows.push({
      buckets: "104 weekly, GROUP BY threads (no rollup, SQL only)",
      tz: "Europe/Berlin",
      ...groupBy.week104,
    });
    const writes = await writeOverhead(db, tenant.projectId, 5, 100);
    rows.push({ buckets: "write: new thread + follow-up, triggers on", tz: "", ...writes.on });
    rows.push({ buckets: "write: new thread + follow-up, triggers off", tz: "", ...writes.off });
    const [size] = await db.execute<{ rollup_rows: number; rollup_mb: number }>(sql`
      select count(*)::int as rollup_rows, round(pg_total_relation_size('thread_rollups') / 1e6) as rollup_mb from thread_rollups`);
    const worstP99 = Math.max(...rows.slice(0, cases.length).map((r) => r.p99 as number));
    report("analytics", rows, {
      unit: "ms",
      threads: count,
      seed_seconds: Math.round(seedSeconds),
      labels_while_measuring: labelling,
      rollup: size,
      cases: rows,
      write_overhead_p50_ms: Math.round((writes.on.p50 - writes.off.p50) * 1000) / 1000,
      target: { p99_ms_at_most: 50, worst_p99: worstP99, met: worstP99 <= 50 },
    });
  } finally {
    await env.close();
  }
}
