import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { servePglite } from "../../local/pglite-server.js";

/**
 * One test worker's embedded database, in a process of its own so that the workers' databases
 * run on separate cores: a PGlite loaded from the migrated data directory the global setup dumped
 * (argv[2]), served on a port the OS picks, which it prints as one JSON line. It stops when its
 * stdin closes (the global setup ends it, or died).
 */
const dump = process.argv[2];
if (!dump) throw new Error("usage: pglite-process.ts <dumped data dir>");
const pg = await PGlite.create({ loadDataDir: new Blob([readFileSync(dump)]) });
const server = await servePglite(pg, "127.0.0.1", 0);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.stdin.resume();
process.stdin.once("close", async () => {
  await server.close();
  await pg.close();
  process.exit(0);
});
