import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../shared/http/openapi.js";
import { routeList } from "../../shared/http/routes.js";
import { chatRequest, listThreadsQuery, MAX_QUESTION_LENGTH } from "../../shared/http/schemas.js";

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
