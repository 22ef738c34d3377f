import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { servePglite } from "../../local/pglite-server.js";
import { connect, type DatabaseTarget } from "../../shared/db/client.js";
import { runMigrations } from "../../shared/db/migrate.js";

const PROCESS_ENTRY = fileURLToPath(new URL("./pglite-process.ts", import.meta.url));

export interface PgliteDatabases {
  targets: DatabaseTarget[];
  stop(): Promise<void>;
}

/**
 * `count` embedded databases, one per test worker: PGlite serves one session at a time, so one
 * database shared by all workers would queue them all behind each other. Migrated once, dumped,
 * and each a copy of that dump in a process of its own (pglite-process.ts).
 */
export async function startPgliteDatabases(count: number): Promise<PgliteDatabases> {
  const dir = mkdtempSync(join(tmpdir(), "kapa-test-pglite-"));
  const dumpPath = join(dir, "migrated.tar");
  writeFileSync(dumpPath, await migratedDataDir());
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(endProcess));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = await Promise.all(
      Array.from({ length: count }, () => {
        const child = spawn(process.execPath, ["--import", "tsx", PROCESS_ENTRY, dumpPath], {
          stdio: ["pipe", "pipe", "inherit"],
        });
        children.push(child);
        return printedPort(child);
      }),
    );
    const targets = ports.map((port) => ({
      url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      embedded: true,
      max: 8,
    }));
    return { targets, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function migratedDataDir(): Promise<Uint8Array> {
  const pg = await PGlite.create();
  const server = await servePglite(pg, "127.0.0.1", 0);
  const database = connect({ url: `postgres://postgres:postgres@127.0.0.1:${server.port}/postgres`, embedded: true });
  try {
    await runMigrations(database.db);
  } finally {
    await database.close();
    await server.close();
  }
  const dump = await pg.dumpDataDir("none");
  await pg.close();
  return new Uint8Array(await dump.arrayBuffer());
}

/** The port the process prints once it serves; its exit before that is an error. */
function printedPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) throw new Error("no stdout");
    const lines = createInterface({ input: child.stdout });
    const exited = (code: number | null) => reject(new Error(`the PGlite process exited (${code}) before serving`));
    child.once("exit", exited);
    lines.once("line", (line) => {
      child.off("exit", exited);
      lines.close();
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
}

function endProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.stdin?.end();
  });
}
