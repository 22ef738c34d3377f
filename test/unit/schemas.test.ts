import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../shared/http/openapi.js";
import { routeList } from "../../shared/http/routes.js";
import { chatRequest, listThreadsQuery, MAX_QUESTION_LENGTH } from "../../shared/http/schemas.js";
import { checkResponse } from "../support/openapi-recorder.js";

describe("request schemas", () => {
  it("trims questions and bounds their length", () => {
    expect(chatRequest.parse({ question: "  hi  " })).toEqual({ question: "hi" });
    expect(chatRequest.safeParse({ question: "   " }).success).toBe(false);
    expect(chatRequest.safeParse({ question: "x".repeat(MAX_QUESTION_LENGTH) }).success).toBe(true);
    expect(chatRequest.safeParse({ question: "x".repeat(MAX_QUESTION_LENGTH + 1) }).success).toBe(false);
    expect(chatRequest.safeParse({ question: 42 }).success).toBe(false);
    expect(chatRequest.safeParse({ question: "q", thread_id: "nope" }).success).toBe(false);
    expect(chatRequest.safeParse({ question: "q", extra: 1 }).success).toBe(false);
  });

  it("parses limit and offset as bounded integers", () => {
    expect(listThreadsQuery.parse({ limit: "10", offset: "20" })).toEqual({ limit: 10, offset: 20 });
    for (const bad of [
      { limit: "0" },
      { limit: "1001" },
      { limit: "-1" },
      { limit: "1.5" },
      { offset: "-5" },
      { offset: "99999999999" },
    ]) {
      expect(listThreadsQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(listThreadsQuery.safeParse({ offset: "1", cursor: "abc" }).success).toBe(false);
  });
});

describe("OpenAPI document", () => {
  it("documents every route of the route table with its schemas", () => {
    const doc = openApiDocument();
    expect(doc.openapi).toBe("3.1.0");
    for (const route of routeList) {
      const operation = doc.paths?.[route.path]?.[route.method.toLowerCase() as "get"];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(route.operationId);
    }
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(
      expect.arrayContaining(["ChatRequest", "ChatResponse", "Thread", "ThreadPage", "ThreadDetail", "Error"]),
    );
  });
});

describe("OpenAPI document, exact", () => {
  const doc = openApiDocument();
  type Op = {
    description?: string;
    security?: unknown[];
    parameters?: { name: string; schema: Record<string, unknown> }[];
    responses: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown }> }>;
  };
  const operations = routeList.map((r) => ({
    route: r,
    op: doc.paths?.[r.path]?.[r.method.toLowerCase() as "get"] as unknown as Op,
  }));

  it("documents query integers as bounded integers with defaults", () => {
    const params = operations.find((o) => o.route.operationId === "listThreads")?.op.parameters ?? [];
    expect(params.find((p) => p.name === "limit")?.schema).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 1000,
      default: 100,
    });
    expect(params.find((p) => p.name === "offset")?.schema).toMatchObject({ type: "integer", minimum: 0 });
  });

  it("derives the common statuses from each route's declaration, so new routes get them", () => {
    for (const { route, op } of operations) {
      const statuses = Object.keys(op.responses);
      expect(statuses, route.operationId).toContain("429");
      expect(op.description, route.operationId).toBeTruthy();
      if (route.auth === "apiKey")
        expect(statuses, route.operationId).toEqual(expect.arrayContaining(["401", "403", "503"]));
      else expect(op.security, route.operationId).toEqual([]);
      if (route.request.body) expect(statuses, route.operationId).toEqual(expect.arrayContaining(["400", "413"]));
    }
    const deleted = operations.find((o) => o.route.operationId === "deleteCategory")?.op.responses["204"];
    expect(deleted?.content).toBeUndefined();
  });

  it("has no negative or unbounded-below integer anywhere", () => {
    expect(JSON.stringify(doc)).not.toContain("-9007199254740991");
  });

  it("checks recorded responses with ajv against it", () => {
    const response = (status: number, body: unknown, path = "/query/v1/projects/p/threads/") => ({
      method: "GET",
      path,
      status,
      contentType: "application/json",
      body: JSON.stringify(body),
      headers: {},
    });
    expect(checkResponse(response(200, { count: 0, next: null, previous: null, results: [] }))).toEqual([]);
    expect(checkResponse(response(200, { count: -1, next: null, previous: null, results: [] }))).toHaveLength(1);
    expect(checkResponse(response(418, { detail: "teapot" }))[0]).toMatch(/status not documented/);
    expect(checkResponse(response(503, { detail: "down" }))[0]).toMatch(/no Retry-After/);
  });
});
