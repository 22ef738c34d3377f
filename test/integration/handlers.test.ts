import type { APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { handler as chatHandler } from "../../functions/chat.js";
import { handler as classifierHandler } from "../../functions/classifier.js";
import { CategoriesRepository } from "../../shared/categories/repository.js";
import { MAX_BODY_BYTES } from "../../shared/http/handler.js";
import { routes } from "../../shared/http/routes.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { apiEvent, jsonBody, lambdaContext } from "../support/events.js";
import { invoke } from "../support/invoke.js";

const db = useTestDb();

/** The handler's own result, as API Gateway would get it. */
const call = async (...args: Parameters<typeof invoke>): Promise<APIGatewayProxyResult> => (await invoke(...args)).raw;

function postChat(t: Tenant, body: unknown, options: { rawBody?: string; projectId?: string } = {}) {
  const params: Record<string, string> = options.projectId ? { project_id: options.projectId } : {};
  return call("chat", t, { params, body, rawBody: options.rawBody });
}

const list = (t: Tenant, query: Record<string, string> = {}) => call("listThreads", t, { query });

const getThread = (t: Tenant, threadId: string) => call("getThread", t, { params: { thread_id: threadId } });

async function threadRows(projectId: string): Promise<number> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from threads where project_id = ${projectId}`,
  );
  return rows[0]?.n ?? -1;
}

function expectError(result: APIGatewayProxyResult, status: number, detail: RegExp) {
  expect(result.statusCode).toBe(status);
  expect(result.headers?.["content-type"]).toBe("application/json");
  const body = jsonBody(result);
  expect(body.detail).toMatch(detail);
  expect(result.body).not.toMatch(/at .*\.ts:\d+|postgres|select /i);
  return body;
}

describe("chat handler", () => {
  it("answers and stores a new thread, then a follow-up", async () => {
    const t = await createTenant(db);
    const first = await postChat(t, { question: "  How do I deploy?  " });
    expect(first.statusCode).toBe(200);
    const body = jsonBody(first);
    expect(body).toMatchObject({ question: "How do I deploy?", answer: expect.any(String) });
    const followUp = await postChat(t, { question: "And roll back?", thread_id: body.thread_id });
    expect(jsonBody(followUp)).toMatchObject({ thread_id: body.thread_id });
    const detail = jsonBody(await getThread(t, body.thread_id as string));
    expect(detail).toMatchObject({ total_questions: 2, first_question: "How do I deploy?", category: null });
  });

  it.each([
    ["malformed JSON", undefined, "{not json", 400, /not valid JSON/],
    ["a body that is not an object", "just text", undefined, 400, /body/],
    ["no body", undefined, "", 400, /body/],
    ["a question of the wrong type", { question: 5 }, undefined, 400, /question must be a string/],
    ["an empty question", { question: "   " }, undefined, 400, /question must not be empty/],
    ["an over-long question", { question: "x".repeat(8001) }, undefined, 400, /at most 8000/],
    ["an invalid thread_id", { question: "q", thread_id: "123" }, undefined, 400, /thread_id must be a UUID/],
    ["an unknown field", { question: "q", foo: 1 }, undefined, 400, /foo/],
  ])("rejects %s with 400 and writes nothing", async (_name, body, rawBody, status, detail) => {
    const t = await createTenant(db);
    const result = await postChat(t, body, { rawBody });
    const error = expectError(result, status, detail);
    expect(Array.isArray(error.errors) || /JSON/.test(String(error.detail))).toBe(true);
    expect(await threadRows(t.projectId)).toBe(0);
  });

  it("rejects a body over 64 KiB with 413", async () => {
    const t = await createTenant(db);
    const result = await postChat(t, undefined, { rawBody: JSON.stringify({ question: "x".repeat(MAX_BODY_BYTES) }) });
    expectError(result, 413, /at most 65536 bytes/);
    expect(await threadRows(t.projectId)).toBe(0);
  });

  it("returns 404 for an unknown thread_id and for another project's thread", async () => {
    const mine = await createTenant(db);
    const theirs = await createTenant(db);
    const their = jsonBody(await postChat(theirs, { question: "private" }));
    expectError(await postChat(mine, { question: "q", thread_id: their.thread_id }), 404, /not found/);
    expectError(await postChat(mine, { question: "q", thread_id: crypto.randomUUID() }), 404, /not found/);
    expectError(await getThread(mine, their.thread_id as string), 404, /not found/);
    expect(await threadRows(mine.projectId)).toBe(0);
  });

  it("refuses a project the authorizer did not grant (defence in depth) and a missing authorizer context", async () => {
    const mine = await createTenant(db);
    const theirs = await createTenant(db);
    expectError(await postChat(mine, { question: "q" }, { projectId: theirs.projectId }), 403, /Forbidden/);
    const anonymous = await chatHandler(
      apiEvent({
        method: "POST",
        resource: routes.chat.path,
        path: `/query/v1/projects/${mine.projectId}/chat`,
        pathParameters: { project_id: mine.projectId },
        body: { question: "q" },
        auth: null,
      }),
      lambdaContext,
    );
    expectError(anonymous as APIGatewayProxyResult, 401, /API key/);
    expect(await threadRows(theirs.projectId)).toBe(0);
  });
});

describe("threads handlers", () => {
  it("lists newest first with count and working offset links", async () => {
    const t = await createTenant(db);
    for (let i = 0; i < 5; i++) await postChat(t, { question: `q${i}` });
    // Threads of the same millisecond are ordered by id: the expected order comes from the table.
    const ordered = await db.execute<{ first_question: string }>(
      sql`select first_question from threads where project_id = ${t.projectId} order by created_at desc, id desc`,
    );
    const expected = ordered.map((r) => r.first_question);
    expect([...expected].sort()).toEqual(["q0", "q1", "q2", "q3", "q4"]);
    const questions = (page: Record<string, unknown>) =>
      (page.results as { first_question: string }[]).map((r) => r.first_question);

    const page = jsonBody(await list(t, { limit: "2", offset: "0" }));
    expect(page.count).toBe(5);
    expect(questions(page)).toEqual(expected.slice(0, 2));
    expect(page.previous).toBeNull();
    expect(page.next).toMatch(/^https:\/\/api\.test\/prod\/query\/v1\/projects\/.+\/threads\/\?limit=2&offset=2$/);
    const firstByDefault = jsonBody(await list(t, { limit: "2" }));
    expect(firstByDefault.results).toEqual(page.results);
    expect(firstByDefault.next).toMatch(/\?limit=2&cursor=[\w-]+$/);
    const second = jsonBody(await list(t, { limit: "2", offset: "2" }));
    expect(questions(second)).toEqual(expected.slice(2, 4));
    expect(second.previous).toMatch(/offset=0$/);
  });

  it.each([
    [{ limit: "0" }, /limit/],
    [{ limit: "100000" }, /limit/],
    [{ limit: "abc" }, /limit/],
    [{ offset: "-1" }, /offset/],
    [{ offset: "1000000000" }, /offset/],
    [{ cursor: "bogus" }, /cursor/i],
    [{ cursor: "bogus", offset: "1" }, /either offset or cursor/],
  ])("rejects query %j with 400", async (query, detail) => {
    const t = await createTenant(db);
    expectError(await list(t, query), 400, detail);
  });

  it("rejects an invalid thread id in the path with 400", async () => {
    const t = await createTenant(db);
    expectError(await getThread(t, "not-a-uuid"), 400, /thread_id must be a UUID/);
  });
});

const patchThread = (t: Tenant, threadId: string, categoryId: string | null) =>
  call("updateThread", t, { params: { thread_id: threadId }, body: { category_id: categoryId } });

/** Runs the classifier function on one SQS batch naming these threads. */
async function classify(threadIds: string[]) {
  const event = {
    Records: threadIds.map((threadId, i) => ({
      messageId: `m${i}`,
      body: JSON.stringify({ threadId, reason: "new-thread" }),
      attributes: { SentTimestamp: String(Date.now()) },
    })),
  } as unknown as SQSEvent;
  const result = (await classifierHandler(event, lambdaContext)) as SQSBatchResponse;
  expect(result.batchItemFailures).toEqual([]);
}

interface LabelBody {
  id: string;
  source: "classifier" | "user";
  confidence: number | null;
}

describe("label confidence through the API", () => {
  it("shows a classifier label's confidence in [0, 1] and a user label's null, in the list and the detail", async () => {
    const quiet = await createTenant(db);
    const noisy = await createTenant(db);
    const ask = async (t: Tenant, question: string) => jsonBody(await postChat(t, { question })).thread_id as string;
    const mine = await ask(quiet, "I get an error when I deploy");
    const theirs = [];
    for (let i = 0; i < 5; i++) theirs.push(await ask(noisy, `How do I set up feature ${i}?`));
    await classify([mine, ...theirs]);

    const labelIn = async (t: Tenant, id: string) => {
      const detail = jsonBody(await getThread(t, id)).category as LabelBody;
      const listed = (jsonBody(await list(t)).results as { id: string; category: LabelBody }[]).find(
        (r) => r.id === id,
      );
      expect(listed?.category).toEqual(detail);
      return detail;
    };
    const byClassifier = await labelIn(quiet, mine);
    expect(byClassifier.source).toBe("classifier");
    expect(byClassifier.confidence).toBeGreaterThanOrEqual(0);
    expect(byClassifier.confidence).toBeLessThanOrEqual(1);

    const other = (await new CategoriesRepository(db).list(quiet.projectId)).find((c) => c.id !== byClassifier.id);
    const patched = await patchThread(quiet, mine, other?.id as string);
    expect(patched.statusCode).toBe(200);
    expect(jsonBody(patched).category).toMatchObject({ id: other?.id, source: "user", confidence: null });
    expect(await labelIn(quiet, mine)).toMatchObject({ source: "user", confidence: null });

    // The noisy project's labels are its own, each with its confidence.
    for (const id of theirs) {
      const label = await labelIn(noisy, id);
      expect(label.source).toBe("classifier");
      expect(typeof label.confidence).toBe("number");
    }
  });
});
