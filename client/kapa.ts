/**
 * A typed client of the API, generated from its OpenAPI document by tools nobody on this project
 * wrote: openapi-typescript (build/client/schema.d.ts, generated from the document by
 * `npm run client:generate`, which `npm run typecheck` runs first; not committed) and openapi-fetch.
 * `exerciseEveryOperation` calls every operation once: CI compiles it (a wrong type in the document
 * breaks the build) and the e2e tests run it against `npm start`.
 */
import createClient from "openapi-fetch";
import type { paths } from "../build/client/schema.js";

export type KapaClient = ReturnType<typeof createKapaClient>;

export function createKapaClient(baseUrl: string, apiKey: string, fetchImpl: typeof fetch = fetch) {
  return createClient<paths>({ baseUrl, headers: { "X-API-KEY": apiKey }, fetch: fetchImpl });
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what}: no data`);
  return value;
}

export interface Exercised {
  operations: string[];
  threadId: string;
  categoryId: string;
  jobStatus: string;
}

/** Records each call's operation name and insists on its data. */
class Calls {
  readonly operations: string[] = [];
  done<T>(name: string, data: T | undefined): T {
    this.operations.push(name);
    return must(data, name);
  }
}

type ProjectPath = { project_id: string };

async function exerciseThreads(client: KapaClient, calls: Calls, project: ProjectPath) {
  const first = calls.done(
    "chat",
    (
      await client.POST("/query/v1/projects/{project_id}/chat", {
        params: { path: project },
        body: { question: "How do I create an API key?" },
      })
    ).data,
  );
  calls.done(
    "chat",
    (
      await client.POST("/query/v1/projects/{project_id}/chat", {
        params: { path: project },
        body: { question: "And how do I revoke it?", thread_id: first.thread_id },
      })
    ).data,
  );
  const page = calls.done(
    "listThreads",
    (
      await client.GET("/query/v1/projects/{project_id}/threads", {
        params: { path: project, query: { limit: 20, offset: 0 } },
      })
    ).data,
  );
  if (page.count < 1) throw new Error("listThreads: the thread is missing");
  const thread = { ...project, thread_id: first.thread_id };
  calls.done(
    "getThread",
    (await client.GET("/query/v1/projects/{project_id}/threads/{thread_id}", { params: { path: thread } })).data,
  );
  return thread;
}

/** The category operations, the thread labelled with a new category; returns its id. */
async function exerciseCategories(
  client: KapaClient,
  calls: Calls,
  thread: ProjectPath & { thread_id: string },
): Promise<string> {
  const project = { project_id: thread.project_id };
  calls.done(
    "listCategories",
    (await client.GET("/query/v1/projects/{project_id}/categories", { params: { path: project } })).data,
  );
  const created = calls.done(
    "createCategory",
    (
      await client.POST("/query/v1/projects/{project_id}/categories", {
        params: { path: project },
        body: { name: `Client ${Date.now()}`, description: "Created by the generated client" },
      })
    ).data,
  );
  calls.done(
    "updateCategory",
    (
      await client.PATCH("/query/v1/projects/{project_id}/categories/{category_id}", {
        params: { path: { ...project, category_id: created.id } },
        body: { description: "Updated by the generated client" },
      })
    ).data,
  );
  calls.done(
    "updateThread",
    (
      await client.PATCH("/query/v1/projects/{project_id}/threads/{thread_id}", {
        params: { path: thread },
        body: { category_id: created.id },
      })
    ).data,
  );
  calls.done(
    "categoryStats",
    (
      await client.GET("/query/v1/projects/{project_id}/categories/stats", {
        params: { path: project, query: { created_after: "2020-01-01T00:00:00Z" } },
      })
    ).data,
  );
  return created.id;
}

/** A reclassify job started and read; returns its status. */
async function exerciseReclassify(client: KapaClient, calls: Calls, project: ProjectPath): Promise<string> {
  const job = calls.done(
    "startReclassify",
    (
      await client.POST("/query/v1/projects/{project_id}/reclassify", {
        params: { path: project },
        body: { scope: "unlabelled" },
      })
    ).data,
  );
  const status = calls.done(
    "getReclassify",
    (
      await client.GET("/query/v1/projects/{project_id}/reclassify/{job_id}", {
        params: { path: { ...project, job_id: job.id } },
      })
    ).data,
  );
  return status.status;
}

async function exerciseAnalyticsAndExports(client: KapaClient, calls: Calls, project: ProjectPath) {
  const trends = calls.done(
    "categoryTrends",
    (
      await client.GET("/query/v1/projects/{project_id}/analytics/categories", {
        params: { path: project, query: { interval: "week", tz: "Europe/Berlin" } },
      })
    ).data,
  );
  if (trends.buckets.length === 0) throw new Error("categoryTrends: no buckets");
  const started = calls.done(
    "createExport",
    (
      await client.POST("/query/v1/projects/{project_id}/exports", {
        params: { path: project },
        body: { format: "csv", include_questions: true },
      })
    ).data,
  );
  calls.done(
    "getExport",
    (
      await client.GET("/query/v1/projects/{project_id}/exports/{export_id}", {
        params: { path: { ...project, export_id: started.id } },
      })
    ).data,
  );
}

/** A webhook on loopback (allowed under `npm start` only); redelivering an unknown event is a 404. */
async function exerciseWebhooks(client: KapaClient, calls: Calls, project: ProjectPath) {
  const base = "/query/v1/projects/{project_id}/webhooks";
  const created = calls.done(
    "createWebhook",
    (
      await client.POST(base, {
        params: { path: project },
        body: { url: "http://127.0.0.1:9/hooks", events: ["category.created"], description: "client" },
      })
    ).data,
  );
  const path = { ...project, webhook_id: created.id };
  calls.done("listWebhooks", (await client.GET(base, { params: { path: project } })).data);
  calls.done("getWebhook", (await client.GET(`${base}/{webhook_id}`, { params: { path } })).data);
  calls.done(
    "updateWebhook",
    (await client.PATCH(`${base}/{webhook_id}`, { params: { path }, body: { description: "renamed" } })).data,
  );
  calls.done(
    "rotateWebhookSecret",
    (await client.POST(`${base}/{webhook_id}/rotate-secret`, { params: { path } })).data,
  );
  calls.done(
    "listWebhookDeliveries",
    (await client.GET(`${base}/{webhook_id}/deliveries`, { params: { path, query: { limit: 10 } } })).data,
  );
  const unknown = await client.POST(`${base}/{webhook_id}/deliveries/{event_id}/redeliver`, {
    params: { path: { ...path, event_id: "00000000-0000-4000-8000-000000000000" } },
  });
  if (unknown.response.status !== 404) throw new Error(`redeliverWebhookEvent: ${unknown.response.status}`);
  calls.operations.push("redeliverWebhookEvent");
  const deleted = await client.DELETE(`${base}/{webhook_id}`, { params: { path } });
  if (deleted.response.status !== 204) throw new Error(`deleteWebhook: ${deleted.response.status}`);
  calls.operations.push("deleteWebhook");
}

async function exercisePages(client: KapaClient, calls: Calls) {
  calls.done("openapi", (await client.GET("/openapi.json")).data);
  for (const [name, path] of [
    ["redoc", "/redoc"],
    ["redocScript", "/redoc/redoc.standalone.js"],
    ["dashboard", "/dashboard"],
    ["dashboardScript", "/dashboard/app.js"],
    ["dashboardStyle", "/dashboard/app.css"],
  ] as const) {
    calls.done(name, (await client.GET(path, { parseAs: "text" })).data);
  }
}

/** The label history of the thread, the review queue, the quality table and the review threshold. */
async function exerciseLabels(client: KapaClient, calls: Calls, thread: ProjectPath & { thread_id: string }) {
  const project = { project_id: thread.project_id };
  calls.done(
    "listThreadLabels",
    (await client.GET("/query/v1/projects/{project_id}/threads/{thread_id}/labels", { params: { path: thread } })).data,
  );
  calls.done(
    "categoryQuality",
    (await client.GET("/query/v1/projects/{project_id}/categories/quality", { params: { path: project } })).data,
  );
  const settings = calls.done(
    "getProjectSettings",
    (await client.GET("/query/v1/projects/{project_id}/settings", { params: { path: project } })).data,
  );
  calls.done(
    "updateProjectSettings",
    (
      await client.PATCH("/query/v1/projects/{project_id}/settings", {
        params: { path: project },
        body: { review_threshold: settings.review_threshold },
      })
    ).data,
  );
  calls.done(
    "listThreads",
    (
      await client.GET("/query/v1/projects/{project_id}/threads", {
        params: { path: project, query: { review: "true" } },
      })
    ).data,
  );
}

/** One call of each operation, in an order where each has what it needs. */
export async function exerciseEveryOperation(client: KapaClient, projectId: string): Promise<Exercised> {
  const project = { project_id: projectId };
  const calls = new Calls();
  const thread = await exerciseThreads(client, calls, project);
  const categoryId = await exerciseCategories(client, calls, thread);
  await exerciseLabels(client, calls, thread);
  const jobStatus = await exerciseReclassify(client, calls, project);
  const deleted = await client.DELETE("/query/v1/projects/{project_id}/categories/{category_id}", {
    params: { path: { ...project, category_id: categoryId } },
  });
  if (deleted.response.status !== 204) throw new Error(`deleteCategory: ${deleted.response.status}`);
  calls.operations.push("deleteCategory");
  await exerciseAnalyticsAndExports(client, calls, project);
  await exerciseWebhooks(client, calls, project);
  await exercisePages(client, calls);
  return { operations: calls.operations, threadId: thread.thread_id, categoryId, jobStatus };
}
