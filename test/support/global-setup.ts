import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { bundleFunctions } from "../../local/lambda-bundle.js";
import { startLocalSqs } from "../../local/sqs.js";
import { loadStack, SHARED_CACHE_DIR } from "../../local/template.js";
import { connect, type DatabaseTarget } from "../../shared/db/client.js";
import { runMigrations } from "../../shared/db/migrate.js";
import { SMALL_PAGES } from "./backfill.js";
import type { TestDatabase } from "./database.js";
import { startPgliteDatabases } from "./pglite-databases.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** One per worker (VITEST_POOL_ID): see testDatabase(). */
    databases: TestDatabase[];
    sqsEndpoint: string;
  }
}

/**
 * The run's databases: a fresh database on the Postgres server of TEST_DATABASE_URL (or
 * DATABASE_URL) for all workers, dropped at the end; otherwise one in-memory PGlite per worker,
 * each served on a local socket. And one local SQS emulator, on which each test file makes its
 * own queues.
 */
export default async function setup(project: TestProject) {
  // The synthesized template the test files' local worlds start from: once per
  // change of the infra code, before the test files ask for it at once.
  // The backfill tests' small pages are another synthesis, and the functions' bundles
  // (local/lambda-bundle.ts) once per change of their sources: all at once.
  await Promise.all([
    loadStack({ cacheDir: SHARED_CACHE_DIR }),
    loadStack({ cacheDir: SHARED_CACHE_DIR, context: SMALL_PAGES }),
    bundleFunctions({ cacheDir: SHARED_CACHE_DIR }),
  ]);
  const sqs = await startLocalSqs(0);
  project.provide("sqsEndpoint", sqs.endpoint);
  const stopDatabase = await setupDatabase(project);
  return async () => {
    await stopDatabase();
    await sqs.stop();
  };
}

async function setupDatabase(project: TestProject): Promise<() => Promise<void>> {
  const workers = project.config.maxWorkers;
  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl) {
    const embedded = await startPgliteDatabases(workers);
    project.provide(
      "databases",
      embedded.targets.map((target) => ({ ...target, kind: "pglite" })),
    );
    return () => embedded.stop();
  }
  // One database per worker too, so that a file has its database to itself as on PGlite (a
  // sweep or a backfill over every project sees only the file's own): migrated once, then copied.
  const prefix = `kapa_test_${process.pid}_${Date.now()}`;
  const names = Array.from({ length: workers }, (_, i) => `${prefix}_${i + 1}`);
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const targets = names.map((name): DatabaseTarget => {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return { url: url.toString(), max: 10 };
  });
  const [first, ...copies] = names;
  await admin.unsafe(`create database ${first}`);
  const database = connect(targets[0] as DatabaseTarget);
  await runMigrations(database.db);
  await database.close();
  for (const name of copies) await admin.unsafe(`create database ${name} template ${first}`);
  project.provide(
    "databases",
    targets.map((target) => ({ ...target, kind: "postgres" })),
  );
  return async () => {
    for (const name of names) await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
}
