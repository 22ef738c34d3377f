import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../local/gateway.js";
import { EXPORT_QUEUED_EXPIRY_SECONDS, EXPORT_STALE_SECONDS, SqsExportQueue } from "../../shared/exports/queue.js";
import { ExportsRepository } from "../../shared/exports/repository.js";
import { startExport } from "../../shared/exports/service.js";
import { TooManyRequestsError } from "../../shared/platform/errors.js";
import { createSqsClient } from "../../shared/platform/sqs-eager-client.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { startTestExportWorld } from "../support/exports.js";
import { startTestGateway } from "../support/http.js";
import { createTestQueue, eventually, testSqs } from "../support/sqs.js";

/**
 * The per-project export limit and the export's states, on real Postgres and the SQS emulator. A
 * "stuck" export is sent to a queue of the test's own that no worker reads, so it stays queued
 * for as long as the test needs; time passes by moving its timestamps in the database.
 */
const db = useTestDb();
let pipeline: Awaited<ReturnType<typeof startTestExportWorld>>;
let gateway: Gateway;
let call: Awaited<ReturnType<typeof startTestGateway>>["call"];
let unread: SqsExportQueue;
let unreadUrl: string;

beforeAll(async () => {
  pipeline = await startTestExportWorld();
  ({ gateway, call } = await startTestGateway());
  unreadUrl = (await createTestQueue("exports-unread")).queueUrl;
  unread = new SqsExportQueue(testSqs, unreadUrl);
});
afterAll(async () => {
  await gateway?.close();
  await pipeline?.stop();
});

const base = (t: Tenant) => `/query/v1/projects/${t.projectId}`;
const post = (t: Tenant) => call("POST", `${base(t)}/exports/`, { key: t.apiKey, body: '{"format":"csv"}' });
const status = async (t: Tenant, id: string) =>
  (await call("GET", `${base(t)}/exports/${id}/`, { key: t.apiKey })).json?.status;

/** An export of `t` that no worker will take: it stays queued. */
async function stuckExport(t: Tenant, maxActive = 1): Promise<string> {
  const row = await startExport(
    { exports: new ExportsRepository(db), queue: unread, maxActive },
    { projectId: t.projectId, format: "csv", includeQuestions: false, filters: {} },
  );
  return row.id;
}

const age = (id: string, column: "created_at" | "updated_at", seconds: number) =>
  db.execute(sql`update thread_exports set ${sql.raw(column)} = now() - make_interval(secs => ${seconds})
    where id = ${id}`);

describe("per-project export limit", () => {
  it("refuses a noisy project's second export with 429, while a quiet project's export runs", async () => {
    const noisy = await createTenant(db, "exports-noisy");
    const quiet = await createTenant(db, "exports-quiet");
    const stuck = await stuckExport(noisy);
    const refused = await post(noisy);
    expect(refused.status, refused.text).toBe(429);
    expect(refused.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    expect(refused.json).toMatchObject({ detail: expect.stringContaining(stuck), id: stuck });
    expect(await status(noisy, stuck)).toBe("queued");

    const started = await post(quiet);
    expect(started.status, started.text).toBe(202);
    expect(started.json?.status).toBe("queued");
    const done = await eventually(async () => {
      const s = await status(quiet, started.json?.id as string);
      return s === "done" || s === "failed" ? s : undefined;
    }, 30_000);
    expect(done).toBe("done");
    // Once the quiet export is done, that project may start another.
    expect((await post(quiet)).status).toBe(202);
  });

  it("holds under concurrent requests: exactly the limit gets through", async () => {
    const tenant = await createTenant(db, "exports-race");
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => stuckExport(tenant, 2)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    const refusals = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(refusals).toHaveLength(4);
    for (const reason of refusals) expect(reason).toBeInstanceOf(TooManyRequestsError);
  });

  it("sends each export in its project's message group (SQS fair queues)", async () => {
    // The emulator drops a standard queue's group id, so a stand-in SQS endpoint records the request.
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        bodies.push(body);
        const sent = JSON.parse(body) as { Entries: { MessageBody: string }[] };
        // The SDK checks the MD5 of what SQS says it stored.
        const md5 = createHash("md5")
          .update(sent.Entries[0]?.MessageBody ?? "")
          .digest("hex");
        response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        response.end(JSON.stringify({ Successful: [{ Id: "0", MessageId: "m1", MD5OfMessageBody: md5 }] }));
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const sqs = createSqsClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
      const tenant = await createTenant(db, "exports-group");
      const queue = new SqsExportQueue(sqs, `http://127.0.0.1:${port}/000000000000/exports`);
      const row = await startExport(
        { exports: new ExportsRepository(db), queue, maxActive: 1 },
        { projectId: tenant.projectId, format: "csv", includeQuestions: false, filters: {} },
      );
      const sent = JSON.parse(bodies[0] ?? "{}") as { Entries?: { MessageBody: string; MessageGroupId?: string }[] };
      expect(sent.Entries).toEqual([
        { Id: "0", MessageBody: JSON.stringify({ exportId: row.id }), MessageGroupId: tenant.projectId },
      ]);
    } finally {
      server.close();
    }
  });
});

describe("an export's status over time", () => {
  it("reads queued however long it waits, and failed only once the queue can no longer deliver it", async () => {
    const tenant = await createTenant(db, "exports-waiting");
    const id = await stuckExport(tenant);
    // Longer than a worker may run: a running export would read failed by now, a queued one does not.
    await age(id, "created_at", EXPORT_STALE_SECONDS * 10);
    await age(id, "updated_at", EXPORT_STALE_SECONDS * 10);
    expect(await status(tenant, id)).toBe("queued");
    expect((await post(tenant)).status).toBe(429);
    await age(id, "created_at", EXPORT_QUEUED_EXPIRY_SECONDS + 60);
    expect(await status(tenant, id)).toBe("failed");
    // What can no longer run does not count against the project, and no late message revives it.
    expect((await post(tenant)).status).toBe(202);
    expect(await new ExportsRepository(db).claim(id)).toBeNull();
    expect(await status(tenant, id)).toBe("failed");
  });

  it("reads failed when its worker stops heartbeating while running", async () => {
    const tenant = await createTenant(db, "exports-stale");
    const id = await stuckExport(tenant);
    const claim = await new ExportsRepository(db).claim(id);
    expect(claim?.row.status).toBe("running");
    await age(id, "updated_at", EXPORT_STALE_SECONDS - 60);
    expect(await status(tenant, id)).toBe("running");
    expect((await post(tenant)).status).toBe(429);
    await age(id, "updated_at", EXPORT_STALE_SECONDS + 1);
    expect(await status(tenant, id)).toBe("failed");
    expect((await post(tenant)).status).toBe(202);
  });
});
