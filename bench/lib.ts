import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import postgres from "postgres";
import { type Gateway, startGateway } from "../local/gateway.js";
import { startLocalSqs, useLocalAws } from "../local/sqs.js";
import { closeRuntime } from "../shared/composition/runtime.js";
import { connect, type Database } from "../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../shared/db/deadline.js";
import { runMigrations } from "../shared/db/migrate.js";

export interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export function stats(samplesMs: number[]): Stats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** CPU seconds (user + system) another process of this machine has used, from /proc. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

/** Resident memory of another process of this machine, MB. */
export function processRssMb(pid: number): number {
  const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
  return Math.round((pages * 4096) / 1e6);
}

/** The machine's load (1, 5, 15 min) and cores: the figures of a shared machine need it next to them. */
export function machineLoad(): { load_average: number[]; cores: number } {
  return { load_average: loadavg().map((l) => Math.round(l * 100) / 100), cores: availableParallelism() };
}

/** Prints a readable table and the JSON result (with the machine's load), and keeps the JSON under bench/results/. */
export function report(name: string, rows: Record<string, unknown>[], result: Record<string, unknown>): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === "number" ? String(v) : String(v ?? ""));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const out = [
    `\n## ${name}\n`,
    line(columns),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
    "",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  const json = JSON.stringify({ benchmark: name, at: new Date().toISOString(), ...result, ...machineLoad() }, null, 2);
  process.stdout.write(`${json}\n`);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/${name.replace(/\W+/g, "-")}.json`, `${json}\n`);
}

export interface BenchEnvironment {
  database: Database;
  url: string;
  gateway: Gateway;
  /** The local SQS emulator's endpoint (AWS_ENDPOINT_URL_SQS of this process). */
  sqsEndpoint: string;
  /** The emulator's process (it runs in one of its own, as SQS is off the function's CPU in AWS). */
  sqsPid: number;
  close(): Promise<void>;
}

/**
 * A fresh database on the benchmark Postgres server (BENCH_DATABASE_URL, else the machine's
 * local Postgres), migrated, with the handlers pointed at it and the local gateway in front.
 */
export async function benchEnvironment(env: Record<string, string> = {}): Promise<BenchEnvironment> {
  const serverUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `kapa_bench_${process.pid}_${Date.now()}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // Silent: no per-request log or metric lines in the measured path's output.
  Object.assign(process.env, { DATABASE_URL: url.toString(), LOG_LEVEL: "silent", ...env });
  // Seeding a million rows is one statement: no API statement timeout on the benchmark's own connection.
  const database = connect({ url: url.toString(), max: 4, timeouts: UNBOUNDED_STATEMENTS });
  await runMigrations(database.db);
  const sqs = await startLocalSqs(0);
  useLocalAws({ sqs: sqs.endpoint });
  const gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
  return {
    database,
    url: gateway.url.replace("localhost", "127.0.0.1"),
    gateway,
    sqsEndpoint: sqs.endpoint,
    sqsPid: sqs.pid,
    async close() {
      await gateway.close();
      await sqs.stop();
      await closeRuntime();
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
