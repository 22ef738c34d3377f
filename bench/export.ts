import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { sql } from "drizzle-orm";
import { lambdaHeapFlags } from "../local/lambda-heap.js";
import { createTenant, type Tenant } from "../shared/admin/tenants.js";
import type { Db } from "../shared/db/client.js";
import { EXPORT_WORKER_MEMORY_MB } from "../shared/exports/queue.js";
import { benchEnvironment, report } from "./lib.js";
import { seedThreads } from "./threads-list.js";

interface ChildResult {
  status: string;
  rows: number;
  url: string | null;
  seconds: number;
  rss_before_mb: number;
  peak_rss_mb: number;
  peak_sampled_rss_mb: number;
  peak_heap_used_mb: number;
  peak_heap_total_mb: number;
  peak_external_mb: number;
}

/** The S3 emulator in a process of its own (it holds each object in memory; not the export's memory). */
async function startS3(): Promise<{ endpoint: string; child: ChildProcess }> {
  const script = `import { startFauxqs } from "fauxqs"; const s = await startFauxqs({ port: 0, logger: false }); console.log(s.port);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return { endpoint: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}

async function runChild(tenant: Tenant, s3Endpoint: string, format: string): Promise<ChildResult> {
  const child = spawn("npx", ["tsx", "bench/export-child.ts"], {
    env: {
      ...process.env,
      // The process plays the export worker's Lambda environment: the heap Lambda gives its memory.
      NODE_OPTIONS: [process.env.NODE_OPTIONS, lambdaHeapFlags(EXPORT_WORKER_MEMORY_MB)].filter(Boolean).join(" "),
      BENCH_PROJECT_ID: tenant.projectId,
      BENCH_API_KEY: tenant.apiKey,
      BENCH_EXPORT_FORMAT: format,
      AWS_ENDPOINT_URL_S3: s3Endpoint,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) throw new Error(`export child failed (${code}): ${out}`);
  return JSON.parse(line) as ChildResult;
}

/** Downloads the file with a plain GET (as curl would) and counts its records, streaming. */
async function countRecords(url: string, format: string): Promise<{ records: number; bytes: number }> {
  const response = await fetch(url);
  if (response.status !== 200 || !response.body) throw new Error(`download answered ${response.status}`);
  let records = 0;
  let bytes = 0;
  for await (const chunk of response.body) {
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 10) records++;
  }
  return { records: format === "csv" ? records - 1 : records, bytes };
}

/** Two thirds of the threads labelled by the classifier, so the export resolves category names. */
async function label(db: Db, projectId: string): Promise<void> {
  await db.execute(sql`
    with c as (select id from categories where project_id = ${projectId} order by name limit 1)
    update threads set category_id = c.id, category_source = 'classifier', classified_at = threads.created_at
    from c where threads.project_id = ${projectId} and ('x' || substr(threads.id::text, 1, 2))::bit(8)::int % 3 <> 0`);
  await db.execute(sql`analyze threads`);
}

/**
 * `npm run bench export`: exports of 100k and 1M threads through the local system (POST, the
 * worker streaming keyset pages into an S3 multipart upload, poll until done), each in a fresh
 * process; time to done, peak RSS of that process, and the file checked by download.
 * Target: 1M in <= 60 s, peak RSS at 1M within 10% of 100k.
 */
export async function benchExport(
  sizes = (process.env.BENCH_EXPORT_SIZES ?? "100000,1000000").split(",").map(Number),
  format = process.env.BENCH_EXPORT_FORMAT ?? "csv",
): Promise<void> {
  const env = await benchEnvironment({ LLM_DELAY_MS: "0" });
  const s3 = await startS3();
  try {
    const rows: Record<string, unknown>[] = [];
    for (const size of sizes) {
      const tenant = await createTenant(env.database.db, `export-${size}`);
      await seedThreads(env.database.db, tenant.projectId, size);
      await label(env.database.db, tenant.projectId);
      const result = await runChild(tenant, s3.endpoint, format);
      if (result.status !== "done" || !result.url) throw new Error(`export ended ${result.status}`);
      const file = await countRecords(result.url, format);
      if (file.records !== size || result.rows !== size) {
        throw new Error(`expected ${size} threads, the export says ${result.rows} and the file has ${file.records}`);
      }
      rows.push({
        threads: size,
        format,
        seconds: result.seconds,
        threads_per_s: Math.round(size / result.seconds),
        file_mb: Math.round(file.bytes / 2 ** 20),
        rss_before_mb: result.rss_before_mb,
        peak_rss_mb: result.peak_rss_mb,
        peak_heap_total_mb: result.peak_heap_total_mb,
        peak_heap_used_mb: result.peak_heap_used_mb,
        peak_external_mb: result.peak_external_mb,
      });
    }
    const small = rows[0] as { peak_rss_mb: number };
    const large = rows.at(-1) as { peak_rss_mb: number; seconds: number; threads: number };
    const rssRatio = Math.round((large.peak_rss_mb / small.peak_rss_mb) * 100) / 100;
    report("export", rows, {
      results: rows,
      rss_ratio_large_over_small: rssRatio,
      worker_heap_flags: lambdaHeapFlags(EXPORT_WORKER_MEMORY_MB),
      target: {
        seconds_at_most: 60,
        rss_ratio_at_most: 1.1,
        met: large.threads >= 1_000_000 && large.seconds <= 60 && rssRatio <= 1.1,
      },
    });
  } finally {
    s3.child.kill();
    await env.close();
  }
}
