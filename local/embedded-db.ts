import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { DatabaseTarget } from "../shared/db/client.js";
import { servePglite } from "./pglite-server.js";

/**
 * PGlite is one Postgres session inside one process. To let the CLI (another process) use the
 * same data while `npm start` runs, the runtime serves it on a local TCP socket and records the
 * address in DATA_DIR/embedded-db.json; every client, the runtime's own handlers included,
 * connects through that socket (see SessionQueue for how connections share the one session).
 */
export interface EmbeddedDatabase {
  target: DatabaseTarget;
  stop(): Promise<void>;
}

interface StateFile {
  url: string;
  pid: number;
}

const stateFile = (dataDir: string) => join(dataDir, "embedded-db.json");

export async function startEmbeddedDatabase(options: {
  /** A directory for the data, or undefined for a throw-away in-memory database. */
  dataDir?: string;
  port: number;
  /** Record the address so `npx kapa` finds this database. */
  advertise?: boolean;
}): Promise<EmbeddedDatabase> {
  let pgDir: string | undefined;
  if (options.dataDir) {
    pgDir = resolve(options.dataDir, "pglite");
    mkdirSync(pgDir, { recursive: true });
  }
  const pg = await PGlite.create(pgDir);
  const server = await servePglite(pg, "127.0.0.1", options.port);
  const url = `postgres://postgres:postgres@127.0.0.1:${server.port}/postgres`;
  if (options.advertise && options.dataDir) {
    writeFileSync(stateFile(options.dataDir), JSON.stringify({ url, pid: process.pid } satisfies StateFile));
  }
  return {
    target: { url, embedded: true, max: 8 },
    async stop() {
      if (options.advertise && options.dataDir) rmSync(stateFile(options.dataDir), { force: true });
      await server.close();
      await pg.close();
    },
  };
}

/** Whether a process of this id still runs (a stale advertisement names a dead one). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function canConnect(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = netConnect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

/** The embedded database a running `npm start` advertises in DATA_DIR, if any. */
export async function findRunningEmbeddedDatabase(dataDir: string): Promise<DatabaseTarget | null> {
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as StateFile;
  } catch {
    return null;
  }
  if (!isAlive(state.pid) || !(await canConnect(state.url))) return null;
  return { url: state.url, embedded: true, max: 2 };
}
