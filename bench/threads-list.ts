import { sql } from "drizzle-orm";
import { createTenant, type Tenant } from "../shared/admin/tenants.js";
import type { Db } from "../shared/db/client.js";
import { encodeCursor } from "../shared/threads/cursor.js";
import { benchEnvironment, report, type Stats, stats, timeIt } from "./lib.js";

/**
 * Seeds threads for one project in a single INSERT ... SELECT generate_series (about 1M rows in
 * seconds), one thread per second going back in time, and keeps the project's counter in step.
 */
export async function seedThreads(db: Db, projectId: string, count: number): Promise<void> {
  await db.execute(sql`
    insert into threads (project_id, created_at, first_question, question_count)
    select ${projectId}, timestamptz '2026-01-01T00:00:00Z' - (g * interval '1 second'),
           'Seeded question number ' || g || ': how do I configure the product?', 1 + (g % 5)
    from generate_series(1, ${count}) g`);
  await db.execute(sql`update projects set thread_count = thread_count + ${count} where id = ${projectId}`);
  await db.execute(sql`analyze threads`);
}

async function measure(url: string, tenant: Tenant, samples: number): Promise<Stats> {
  const times: number[] = [];
  for (let i = 0; i < samples + 20; i++) {
    const elapsed = await timeIt(async () => {
      const response = await fetch(url, { headers: { "X-API-KEY": tenant.apiKey } });
      if (response.status !== 200) throw new Error(`list answered ${response.status}`);
      await response.arrayBuffer();
    });
    if (i >= 20) times.push(elapsed); // the first 20 warm caches and connections
  }
  return stats(times);
}

/** The `next` link a client reaches ~90% of the way down the list (built from the row at that depth). */
async function deepCursorUrl(db: Db, baseUrl: string, projectId: string, total: number): Promise<string> {
  const rows = await db.execute<{ created_at: string; id: string }>(sql`
    select created_at, id from threads where project_id = ${projectId}
    order by created_at desc, id desc offset ${Math.floor(total * 0.9)} limit 1`);
  const row = rows[0];
  if (!row) throw new Error("no thread at that depth");
  const cursor = encodeCursor({ direction: "next", createdAt: new Date(row.created_at), id: row.id });
  return `${baseUrl}?limit=100&cursor=${cursor}`;
}

export async function benchThreadsList(
  large = Number(process.env.BENCH_LIST_THREADS ?? 1_000_000),
  small = 10_000,
  samples = Number(process.env.BENCH_LIST_SAMPLES ?? 500),
): Promise<void> {
  const env = await benchEnvironment({ LLM_DELAY_MS: "0" });
  try {
    const results: Record<string, { first: Stats; deep: Stats }> = {};
    const seedSeconds: Record<string, number> = {};
    for (const size of [small, large]) {
      const tenant = await createTenant(env.database.db, `list-${size}`);
      seedSeconds[size] = Math.round(await timeIt(() => seedThreads(env.database.db, tenant.projectId, size))) / 1000;
      const baseUrl = `${env.url}/query/v1/projects/${tenant.projectId}/threads/`;
      const deepUrl = await deepCursorUrl(env.database.db, baseUrl, tenant.projectId, size);
      results[size] = {
        first: await measure(`${baseUrl}?limit=100`, tenant, samples),
        deep: await measure(deepUrl, tenant, samples),
      };
    }
    const smallR = results[small] as { first: Stats; deep: Stats };
    const largeR = results[large] as { first: Stats; deep: Stats };
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const rows = [
      { threads: small, page: "first (limit 100)", ...smallR.first },
      { threads: small, page: "deep cursor (90%)", ...smallR.deep },
      { threads: large, page: "first (limit 100)", ...largeR.first },
      { threads: large, page: "deep cursor (90%)", ...largeR.deep },
    ];
    const ratios = {
      first_p50: ratio(largeR.first.p50, smallR.first.p50),
      first_p99: ratio(largeR.first.p99, smallR.first.p99),
      deep_p50: ratio(largeR.deep.p50, smallR.deep.p50),
      deep_p99: ratio(largeR.deep.p99, smallR.deep.p99),
    };
    process.stdout.write(`ratios ${large}/${small}: ${JSON.stringify(ratios)}\n`);
    report("threads-list", rows, {
      unit: "ms",
      seed_seconds: seedSeconds,
      small: { threads: small, ...smallR },
      large: { threads: large, ...largeR },
      ratios_large_over_small: ratios,
      target: {
        first_page_p99_ms_below: 10,
        ratio_below: 1.3,
        met: largeR.first.p99 < 10 && ratios.first_p50 < 1.3 && ratios.deep_p50 < 1.3,
      },
    });
  } finally {
    await env.close();
  }
}
