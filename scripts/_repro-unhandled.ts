import { createHook } from "node:async_hooks";
import { sql } from "drizzle-orm";
import { connect } from "../shared/db/client.js";
import { startFaultProxy } from "../test/support/fault-proxy.js";

const stacks = new WeakMap<object, string>();
createHook({
  init(_id, type, _trigger, resource) {
    if (type === "PROMISE") stacks.set(resource as object, new Error().stack ?? "");
  },
}).enable();
const seen: string[] = [];
process.on("unhandledRejection", (reason, promise) => {
  seen.push(String(reason));
  console.log("UNHANDLED", String(reason), "\ncreated at:", stacks.get(promise)?.split("\n").slice(2, 30).join("\n"));
});

const url = process.env.URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const proxy = await startFaultProxy(url);
const { db, close } = connect({ url: proxy.url, max: 5 });
await db.execute(sql`select 1`);
await proxy.set("delay", { delayMs: Number(process.env.DELAY ?? 100) });
const deadline = Date.now() + 8000;
const work = async () => {
  while (Date.now() < deadline) {
    const r = Math.random();
    try {
      if (r < 0.4)
        await db.transaction(async (tx) => {
          await tx.execute(sql`select pg_sleep(0.05)`);
          await tx.execute(sql`select 2`);
        });
      else if (r < 0.7) await Promise.all([db.execute(sql`select 1`), db.execute(sql`select pg_sleep(0.1)`)]);
      else await db.execute(sql`select 3`);
    } catch {}
  }
};
await Promise.all(Array.from({ length: 8 }, work));
await proxy.set("pass");
await new Promise((r) => setTimeout(r, 3000));
await close();
await proxy.close();
console.log("unhandled:", seen.length);
