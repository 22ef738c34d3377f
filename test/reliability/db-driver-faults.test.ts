import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../shared/db/client.js";
import { classifyDbError } from "../../shared/db/errors.js";
import { testDatabase } from "../support/database.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";

/**
 * The driver under faults that hit a connection as it starts its session: the failure reaches
 * the query that asked for the connection, and nothing else. An unhandled rejection ends a
 * Lambda runtime (every request in it), so one here fails the test.
 */
const database = testDatabase();
let proxy: FaultProxy;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** Lets the event loop run a few turns: an unhandled rejection is reported after the microtasks. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  proxy = await startFaultProxy(database.url);
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await proxy?.close();
});

describe("a connection lost as its session starts", () => {
  it("fails the waiting query as retryable, with no unhandled rejection, and the next connection works", async () => {
    const pool = connect({ url: proxy.url, max: 2, embedded: database.embedded });
    try {
      await proxy.set("reset-after-login");
      const failed = await pool.db.execute(sql`select 1 as one`).then(
        () => null,
        (error: unknown) => error,
      );
      expect(classifyDbError(failed)?.retryable).toBe(true);
      await settle();
      expect(unhandled.map(String)).toEqual([]);

      await proxy.set("pass");
      const rows = await pool.db.execute(sql`select 1 as one`);
      expect(rows[0]).toEqual({ one: 1 });
    } finally {
      await pool.close();
    }
    await settle();
    expect(unhandled.map(String)).toEqual([]);
  });
});
