import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { startEmbeddedDatabase } from "../../local/embedded-db.js";
import { startLocalSqs } from "../../local/sqs.js";
import { loadStack, SHARED_CACHE_DIR } from "../../local/template.js";
import { connect, type DatabaseTarget } from "../../shared/db/client.js";
import { runMigrations } from "../../shared/db/migrate.js";
import { SMALL_PAGES } from "./backfill.js";

declare module "vitest" {
  export interface ProvidedContext {
    database: DatabaseTarget & { kind: "postgres" | "pglite" };
    sqsEndpoint: string;
  }
}

/**
 * One database for the whole run: a fresh database on the Postgres server of TEST_DATABASE_URL
 * (or DATABASE_URL), dropped at the end; otherwise an in-memory PGlite served on a local socket.
 * And one local SQS emulator, on which each test file makes its own queues.
 */
export default async function setup(project: TestProject) {
  // The synthesized template the in-process pipelines read their queue settings from: once per
  // change of the infra code, before the test files ask for it at once.
  // The backfill tests' small pages are another synthesis: both at once.
  await Promise.all([
    loadStack({ cacheDir: SHARED_CACHE_DIR }),
    loadStack({ cacheDir: SHARED_CACHE_DIR, context: SMALL_PAGES }),
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
  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `kapa_test_${process.pid}_${Date.now()}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const target: DatabaseTarget = { url: url.toString(), max: 10 };
    const database = connect(target);
    await runMigrations(database.db);
    await database.close();
    project.provide("database", { ...target, kind: "postgres" });
    return async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const embedded = await startEmbeddedDatabase({ port: 0 });
  const database = connect(embedded.target);
  await runMigrations(database.db);
  await database.close();
  project.provide("database", { ...embedded.target, kind: "pglite" });
  return () => embedded.stop();
}
