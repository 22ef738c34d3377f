import { connect, type Database, type DatabaseTarget } from "../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../shared/db/deadline.js";
import type { Env } from "../shared/platform/config.js";
import { findRunningEmbeddedDatabase, startEmbeddedDatabase } from "./embedded-db.js";

/**
 * The database of a local command: DATABASE_URL when set; else the embedded one that a running
 * `npm start` serves; else the embedded data directory opened by this process for its duration.
 */
export interface LocalDatabase extends Database {
  description: string;
  /** How to reach it: what handlers run in this process connect to. */
  target: DatabaseTarget;
}

export async function openLocalDatabase(env: Env): Promise<LocalDatabase> {
  if (env.DATABASE_URL) {
    // Operator commands may run long statements: only connecting is bounded.
    const target = { url: env.DATABASE_URL, max: 4, timeouts: UNBOUNDED_STATEMENTS };
    return { ...connect(target), target, description: "DATABASE_URL" };
  }
  const running = await findRunningEmbeddedDatabase(env.DATA_DIR);
  if (running) {
    return {
      ...connect(running),
      target: running,
      description: `embedded database served by npm start (${running.url})`,
    };
  }
  const embedded = await startEmbeddedDatabase({ dataDir: env.DATA_DIR, port: 0 });
  const database = connect(embedded.target);
  return {
    db: database.db,
    target: embedded.target,
    description: `embedded database in ${env.DATA_DIR}`,
    async close() {
      await database.close();
      await embedded.stop();
    },
  };
}
