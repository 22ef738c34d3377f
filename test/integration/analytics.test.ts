import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { GRAINS_MINUTES } from "../../shared/analytics/slots.js";
import type { CategoryTrendsResource } from "../../shared/http/analytics-schemas.js";
import type { CategoryStatsResource } from "../../shared/http/schemas.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { seededRandom } from "../support/random.js";
import { drainRequests } from "../support/sqs.js";

/**
 * GET analytics/categories/ against categories/stats/ and the filtered list, on random data
 * written through every path that moves a thread or a question (inserts, user labels, label
 * removal, classifier labels, category deletion, moved creation times, follow-ups). The seed is
 * printed; ANALYTICS_SEED replays.
 */
const db = useTestDb();
const seed = Number(process.env.ANALYTICS_SEED ?? Date.now() % 1_000_000);
const random = seededRandom(seed);
const liveQueue = process.env.CLASSIFICATION_QUEUE_URL as string;
const GRAINS = `{${GRAINS_MINUTES.join(",")}}`;

const WINDOW_FROM = Date.parse("2026-03-01T00:00:00Z");
const WINDOW_MS = 75 * 86_400_000; // over Europe's and the US's spring daylight-saving changes
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"];
const randomInstant = () => WINDOW_FROM + Math.floor(random.next() * WINDOW_MS);

type Trends = CategoryTrendsResource;
type Stats = CategoryStatsResource;

async function trends(t: Tenant, query: Record<string, string>) {
  return invoke("categoryTrends", t, { query });
}

async function stats(t: Tenant, from: number, to: number): Promise<Stats> {
  const query = { created_after: new Date(from).toISOString(), created_before: new Date(to).toISOString() };
  const reply = await invoke("categoryStats", t, { query });
  expect(reply.status).toBe(200);
  return reply.body as unknown as Stats;
}

async function listCount(t: Tenant, query: Record<string, string>): Promise<number> {
  const reply = await invoke("listThreads", t, { query: { limit: "1", ...query } });
  expect(reply.status).toBe(200);
  return reply.body.count as number;
}

async function questionsBetween(t: Tenant, from: number, to: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from question_answers q join threads t on t.id = q.thread_id
    where t.project_id = ${t.projectId} and q.created_at >= ${new Date(from).toISOString()}
      and q.created_at < ${new Date(to).toISOString()}`);
  return Number(rows[0]?.n);
}

/** Random threads with random labels and 1-3 questions each, written with plain SQL. */
async function seedRandomThreads(t: Tenant, count: number, categoryIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = crypto.randomUUID();
    ids.push(id);
    const created = randomInstant();
    const labelled = random.next() < 0.75;
    const category = labelled ? random.pick(categoryIds) : null;
    const source = labelled ? random.pick(["user", "classifier"] as const) : null;
    const questions = 1 + random.int(3);
    await db.execute(sql`
      insert into threads (id, project_id, created_at, first_question, question_count, category_id, category_source)
      values (${id}, ${t.projectId}, ${new Date(created).toISOString()}, 'q', ${questions}, ${category}, ${source})`);
    for (let p = 1; p <= questions; p++) {
      const asked = p === 1 ? created : created + random.int(4 * 86_400_000);
      await db.execute(sql`
        insert into question_answers (thread_id, position, question, answer, created_at)
        values (${id}, ${p}, 'q', 'a', ${new Date(asked).toISOString()})`);
    }
  }
  return ids;
}

async function createCategory(t: Tenant, name: string): Promise<string> {
  const reply = await invoke("createCategory", t, { body: { name } });
  return reply.body.id as string;
}

/** Moves labels and times through the API and the classifier's kind of write. */
async function mutate(t: Tenant, ids: string[], categoryIds: string[], doomed: string): Promise<void> {
  for (let i = 0; i < 25; i++) {
    const category = random.next() < 0.3 ? null : random.pick(categoryIds);
    const reply = await invoke("updateThread", t, {
      params: { thread_id: random.pick(ids) },
      body: { category_id: category },
    });
    expect(reply.status).toBe(200);
  }
  await db.execute(sql`
    update threads set category_id = ${random.pick(categoryIds)}, category_source = 'classifier'
    where project_id = ${t.projectId} and category_id is null and id in (${sql.join(
      ids.slice(0, 60).map((id) => sql`${id}`),
      sql`, `,
    )})`);
  for (const id of ids.slice(60, 70)) {
    await db.execute(sql`update threads set created_at = ${new Date(randomInstant()).toISOString()} where id = ${id}`);
  }
  expect((await invoke("chat", t, { body: { question: "and now?", thread_id: random.pick(ids) } })).status).toBe(200);
  expect((await invoke("deleteCategory", t, { params: { category_id: doomed } })).status).toBe(204);
  await drainRequests(liveQueue);
}

/** One project and its neighbour, seeded at random and written to in every way, for every test of the file. */
let t: Tenant;
let neighbour: Tenant;
let categoryIds: string[];
/** When the project's threads were created and its questions asked. */
let instants: number[];

beforeAll(async () => {
  process.stdout.write(`analytics seed: ${seed} (replay with ANALYTICS_SEED=${seed})\n`);
  t = await createTenant(db, "analytics");
  neighbour = await createTenant(db, "analytics-neighbour");
  const listed = await invoke("listCategories", t);
  const defaults = (listed.body.results as { id: string }[]).map((c) => c.id);
  const careers = await createCategory(t, "Careers");
  const legal = await createCategory(t, "Legal");
  categoryIds = [...defaults, careers, legal];
  const ids = await seedRandomThreads(t, 300, categoryIds);
  const neighbourCategories = (await invoke("listCategories", neighbour)).body.results as { id: string }[];
  await seedRandomThreads(
    neighbour,
    80,
    neighbourCategories.map((c) => c.id),
  );
  await mutate(t, ids, categoryIds, legal);
  categoryIds = categoryIds.filter((id) => id !== legal);
  const rows = await db.execute<{ at: string }>(sql`
    select created_at as at from threads where project_id = ${t.projectId}
    union all
    select q.created_at from question_answers q join threads t on t.id = q.thread_id where t.project_id = ${t.projectId}`);
  instants = rows.map((r) => Date.parse(r.at)).filter((at) => at < WINDOW_FROM + WINDOW_MS);
}, 120_000);

describe("analytics: categories over time, the rollup", () => {
  it("keeps the rollup equal to the rows at every grain, through every kind of write", async () => {
    const drift = await db.execute(sql`
      with expected as (
        select project_id, g.m as grain_minutes,
               date_bin(make_interval(mins => g.m), created_at, timestamptz '2000-01-01Z') as slot_start,
               category_id, category_source, count(*)::int as threads, 0 as questions
        from threads cross join unnest(${GRAINS}::int[]) g(m) where project_id in (${t.projectId}, ${neighbour.projectId})
        group by 1, 2, 3, 4, 5
        union all
        select t.project_id, g.m, date_bin(make_interval(mins => g.m), q.created_at, timestamptz '2000-01-01Z'),
               null, null, 0, count(*)::int
        from question_answers q join threads t on t.id = q.thread_id cross join unnest(${GRAINS}::int[]) g(m)
        where t.project_id in (${t.projectId}, ${neighbour.projectId})
        group by 1, 2, 3
      ), e as (
        select project_id, grain_minutes, slot_start, category_id, category_source, sum(threads) as threads, sum(questions) as questions
        from expected group by 1, 2, 3, 4, 5
      ), r as (
        select project_id, grain_minutes::int, slot_start, category_id, category_source, sum(threads) as threads, sum(questions) as questions
        from thread_rollups where project_id in (${t.projectId}, ${neighbour.projectId}) and (threads <> 0 or questions <> 0)
        group by 1, 2, 3, 4, 5
      )
      (select * from e except select * from r) union all (select * from r except select * from e)`);
    expect(drift).toEqual([]);
  });
});

describe("analytics: categories over time, against the other endpoints", () => {
  it("agrees bucket by bucket with categories/stats/, the filtered list and the questions asked", async () => {
    for (let round = 0; round < 6; round++) {
      const interval = random.pick(["day", "week", "month"] as const);
      const tz = ZONES[round] as string;
      const span = { day: 20, week: 12 * 7, month: 75 }[interval] * 86_400_000;
      // Range ends a few minutes around a thread's creation or a question, so the edges that the
      // rollup cannot cut (under 15 minutes) hold rows.
      const near = (at: number) => at + random.int(20 * 60_000) - 10 * 60_000;
      const from = near(random.pick(instants));
      const ends = instants.filter((at) => at > from + 30 * 60_000 && at < from + span);
      const to = ends.length > 0 ? Math.max(from + 1, near(random.pick(ends))) : from + 1 + random.int(span);
      const query = {
        interval,
        tz,
        created_after: new Date(from).toISOString(),
        created_before: new Date(to).toISOString(),
      };
      const reply = await trends(t, query);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const body = reply.body as unknown as Trends;
      expect(body).toMatchObject({
        interval,
        tz,
        created_after: query.created_after,
        created_before: query.created_before,
      });
      let threadsTotal = 0;
      for (const [i, bucket] of body.buckets.entries()) {
        const start = Date.parse(bucket.start);
        const end = Date.parse(bucket.end);
        if (i > 0) expect(bucket.start).toBe(body.buckets[i - 1]?.end);
        const a = Math.max(start, from);
        const b = Math.min(end, to);
        const expected = await stats(t, a, b);
        const context = `${JSON.stringify(query)} bucket ${bucket.start}`;
        expect(bucket.threads, context).toBe(expected.total);
        expect(bucket.unlabelled, context).toBe(expected.unlabelled);
        expect(bucket.by_source, context).toEqual(expected.by_source);
        const byId = new Map(expected.categories.map((c) => [c.id, c.count]));
        for (const c of bucket.categories) expect(c.count, `${context} ${c.name}`).toBe(byId.get(c.id));
        expect(bucket.categories.map((c) => c.id).sort()).toEqual([...byId.keys()].sort());
        expect(bucket.questions, context).toBe(await questionsBetween(t, a, b));
        threadsTotal += bucket.threads;
        if (bucket.threads > 0) {
          const range = { created_after: new Date(a).toISOString(), created_before: new Date(b).toISOString() };
          const category = random.pick(bucket.categories);
          expect(await listCount(t, { ...range, category: category.id }), context).toBe(category.count);
          expect(await listCount(t, { ...range, category: "none" }), context).toBe(bucket.unlabelled);
          const source = random.pick(["user", "classifier"] as const);
          expect(await listCount(t, { ...range, source }), context).toBe(bucket.by_source[source]);
        }
      }
      expect(threadsTotal).toBe((await stats(t, from, to)).total);
    }
  }, 120_000);
});

describe("analytics: categories over time, buckets, defaults and bad input", () => {
  it("includes empty buckets, starts them at the zone's midnights and keeps 23- and 25-hour days", async () => {
    const empty = await createTenant(db, "analytics-empty");
    const reply = await trends(empty, {
      interval: "day",
      tz: "Europe/Berlin",
      created_after: "2026-03-28T00:00:00+01:00",
      created_before: "2026-03-31T00:00:00+02:00",
    });
    const body = reply.body as unknown as Trends;
    expect(body.buckets.map((b) => b.start)).toEqual([
      "2026-03-28T00:00:00+01:00",
      "2026-03-29T00:00:00+01:00",
      "2026-03-30T00:00:00+02:00",
    ]);
    const hours = body.buckets.map((b) => (Date.parse(b.end) - Date.parse(b.start)) / 3_600_000);
    expect(hours).toEqual([24, 23, 24]);
    for (const bucket of body.buckets) {
      expect(bucket).toMatchObject({ threads: 0, questions: 0, unlabelled: 0, by_source: { user: 0, classifier: 0 } });
      expect(bucket.categories.map((c) => [c.name, c.count])).toEqual([
        ["Discovery", 0],
        ["Troubleshooting", 0],
      ]);
    }
  });

  it("defaults to UTC and the last 30 days, 12 weeks or 12 months", async () => {
    for (const [interval, count] of [
      ["day", 30],
      ["week", 12],
      ["month", 12],
    ] as const) {
      const reply = await trends(t, { interval });
      expect(reply.status).toBe(200);
      const body = reply.body as unknown as Trends;
      expect(body.tz).toBe("UTC");
      expect(body.buckets).toHaveLength(count);
      expect(body.buckets[0]?.start).toBe(body.created_after.replace(".000Z", "+00:00"));
    }
  });

  it("answers 400 with a detail for a bad zone, interval, range or more than 400 buckets", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ tz: "Mars/Olympus" }, /IANA time zone/],
      [{ tz: "+01:00" }, /IANA time zone/],
      [{ interval: "hour" }, /day, week or month/],
      [{ created_after: "yesterday" }, /ISO-8601/],
      [{ created_after: "2026-02-01T00:00:00Z", created_before: "2026-01-01T00:00:00Z" }, /before/],
      [{ interval: "day", created_after: "2025-01-01T00:00:00Z", created_before: "2026-03-01T00:00:00Z" }, /400/],
    ];
    for (const [query, detail] of cases) {
      const reply = await trends(t, query);
      expect(reply.status, JSON.stringify(query)).toBe(400);
      expect(reply.body.detail).toMatch(detail);
    }
    const week = await trends(t, {
      interval: "week",
      created_after: "2019-01-01T00:00:00Z",
      created_before: "2026-01-01T00:00:00Z",
    });
    expect(week.body.buckets).toHaveLength(366);
  });

  it("counts only the project's own threads", async () => {
    const query = { interval: "month", created_after: "2026-02-01T00:00:00Z", created_before: "2026-06-01T00:00:00Z" };
    for (const tenant of [t, neighbour]) {
      const body = (await trends(tenant, query)).body as unknown as Trends;
      const total = body.buckets.reduce((sum, b) => sum + b.threads, 0);
      expect(total).toBe(
        (await stats(tenant, Date.parse(query.created_after), Date.parse(query.created_before))).total,
      );
    }
  });
});
