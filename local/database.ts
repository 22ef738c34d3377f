import type { Env } from "../shared/config.js";
import { connect, type Database } from "../shared/db/client.js";
import { findRunningEmbeddedDatabase, startEmbeddedDatabase } from "./embedded-db.js";

/**
 * The database of a local command: DATABASE_URL when set; else the embedded one that a running
 * `npm start` serves; else the embedded data directory opened by this process for its duration.
 */
export async function openLocalDatabase(env: Env): Promise<Database & { description: string }> {
  if (env.DATABASE_URL) {
    const database = connect({ url: env.DATABASE_URL, max: 4 });
    return { ...database, description: "DATABASE_URL" };
  }
  const running = await findRunningEmbeddedDatabase(env.DATA_DIR);
  if (running) return { ...connect(running), description: `embedded database served by npm start (${running.url})` };
  const embedded = await startEmbeddedDatabase({ dataDir: env.DATA_DIR, port: 0 });
  const database = connect(embedded.target);
  return {
    db: database.db,
    description: `embedded database in ${env.DATA_DIR}`,
    async close() {
      await database.close();
      await embedded.stop();
    },
  };
}
