import { describe, expect, it } from "vitest";
import { createKapaClient, exerciseEveryOperation } from "../../client/kapa.js";
import { routeList } from "../../shared/http/routes.js";
import { recordingFetch } from "../support/openapi-recorder.js";
import { useLocalRuntime } from "../support/processes.js";

/**
 * A client generated from the OpenAPI document (openapi-typescript + openapi-fetch) against
 * `npm start`: every operation once, plus error answers; every response is checked against the
 * document when the file ends (test/support/openapi-check.ts). The console shows one access line
 * per request.
 */
const local = useLocalRuntime("client", { LLM_DELAY_MS: "20", LOG_LEVEL: "info" });

describe("the generated client", () => {
  it("calls every operation against npm start, and errors match the document too", { timeout: 300_000 }, async () => {
    const runtime = await local.start();
    const { baseUrl, projectId, apiKey } = runtime;
    const client = createKapaClient(baseUrl.replace("localhost", "127.0.0.1"), apiKey, recordingFetch);

    const result = await exerciseEveryOperation(client, projectId);
    expect(new Set(result.operations)).toEqual(new Set(routeList.map((r) => r.operationId)));

    const project = { project_id: projectId };
    const tooBig = await client.GET("/query/v1/projects/{project_id}/threads", {
      params: { path: project, query: { limit: 5000 } },
    });
    expect(tooBig.response.status).toBe(400);
    const missing = await client.GET("/query/v1/projects/{project_id}/threads/{thread_id}", {
      params: { path: { ...project, thread_id: "00000000-0000-4000-8000-000000000000" } },
    });
    expect(missing.response.status).toBe(404);
    const blank = await client.POST("/query/v1/projects/{project_id}/chat", {
      params: { path: project },
      body: { question: "   " },
    });
    expect(blank.response.status).toBe(400);
    const anonymous = createKapaClient(baseUrl.replace("localhost", "127.0.0.1"), "", recordingFetch);
    const unauthenticated = await anonymous.GET("/query/v1/projects/{project_id}/categories", {
      params: { path: project },
    });
    expect(unauthenticated.response.status).toBe(401);

    // The readable access log of npm start: one line per request, ids shortened.
    expect(runtime.output()).toMatch(/POST \/query\/v1\/projects\/[0-9a-f]{8}…\/chat 200 \d+ ms/);
    expect(runtime.output()).toMatch(/GET \/query\/v1\/projects\/[0-9a-f]{8}…\/threads\/00000000… 404 \d+ ms/);
    expect(runtime.output()).not.toContain('"_aws"');
  });
});
