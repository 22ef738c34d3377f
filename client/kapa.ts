/**
 * A typed client of the API, generated from its OpenAPI document by tools nobody on this project
 * wrote: openapi-typescript (build/client/schema.d.ts, generated from the document by
 * `npm run client:generate`, which `npm run typecheck` runs first; not committed) and openapi-fetch.
 * `exerciseEveryOperation` calls every operation once: CI compiles it (a wrong type in the document
 * breaks the build) and the e2e tests run it against `npm start`.
 */
import createClient from "openapi-fetch";
import type { paths } from "../build/client/schema.js";
import { PROJECT } from "../shared/http/route.js";

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

  /** Awaits the request, records it as `name` and returns its data. */
  async call<T>(name: string, request: Promise<{ data?: T }>): Promise<T> {
    return this.done(name, (await request).data);
  }
}

type ProjectPath = { project_id: string };

async function exerciseThreads(client: KapaClient, calls: Calls, project: ProjectPath) {
  const first = await calls.call(
    "chat",
    client.POST(`${PROJECT}/chat`, {
      params: { path: project },
      body: { question: "How do I create an API key?" },
    }),
  );
  await calls.call(
    "chat",
    client.POST(`${PROJECT}/chat`, {
      params: { path: project },
      body: { question: "And how do I revoke it?", thread_id: first.thread_id },
    }),
  );
  const page = await calls.call(
    "listThreads",
    client.GET(`${PROJECT}/threads`, {
      params: { path: project, query: { limit: 20, offset: 0 } },
    }),
  );
  if (page.count < 1) throw new Error("listThreads: the thread is missing");
  const thread = { ...project, thread_id: first.thread_id };
  await calls.call("getThread", client.GET(`${PROJECT}/threads/{thread_id}`, { params: { path: thread } }));
  return thread;
}

/** The category operations, the thread labelled with a new category; returns its id. */
async function exerciseCategories(
  client: KapaClient,
  calls: Calls,
  thread: ProjectPath & { thread_id: string },
): Promise<string> {
  const project = { project_id: thread.project_id };
  await calls.call("listCategories", client.GET(`${PROJECT}/categories`, { params: { path: project } }));
  const created = await calls.call(
    "createCategory",
    client.POST(`${PROJECT}/categories`, {
      params: { path: project },
      body: { name: `Client ${Date.now()}`, description: "Created by the generated client" },
    }),
  );
  await calls.call(
    "updateCategory",
    client.PATCH(`${PROJECT}/categories/{category_id}`, {
      params: { path: { ...project, category_id: created.id } },
      body: { description: "Updated by the generated client" },
    }),
  );
  await calls.call(
    "updateThread",
    client.PATCH(`${PROJECT}/threads/{thread_id}`, {
      params: { path: thread },
      body: { category_id: created.id },
    }),
  );
  await calls.call(
    "categoryStats",
    client.GET(`${PROJECT}/categories/stats`, {
      params: { path: project, query: { created_after: "2020-01-01T00:00:00Z" } },
    }),
  );
  return created.id;
}

/** A reclassify job started and read; returns its status. */
async function exerciseReclassify(client: KapaClient, calls: Calls, project: ProjectPath): Promise<string> {
  const job = await calls.call(
    "startReclassify",
    client.POST(`${PROJECT}/reclassify`, {
      params: { path: project },
      body: { scope: "unlabelled" },
    }),
  );
  const status = await calls.call(
    "getReclassify",
    client.GET(`${PROJECT}/reclassify/{job_id}`, {
      params: { path: { ...project, job_id: job.id } },
    }),
  );
  return status.status;
}

async function exerciseAnalyticsAndExports(client: KapaClient, calls: Calls, project: ProjectPath) {
  const trends = await calls.call(
    "categoryTrends",
    client.GET(`${PROJECT}/analytics/categories`, {
      params: { path: project, query: { interval: "week", tz: "Europe/Berlin" } },
    }),
  );
  if (trends.buckets.length === 0) throw new Error("categoryTrends: no buckets");
  const started = await calls.call(
    "createExport",
    client.POST(`${PROJECT}/exports`, {
      params: { path: project },
      body: { format: "csv", include_questions: true },
    }),
  );
  await calls.call(
    "getExport",
    client.GET(`${PROJECT}/exports/{export_id}`, {
      params: { path: { ...project, export_id: started.id } },
    }),
  );
}

/** A webhook on loopback (allowed under `npm start` only); redelivering an unknown event is a 404. */
async function exerciseWebhooks(client: KapaClient, calls: Calls, project: ProjectPath) {
  const base = `${PROJECT}/webhooks`;
  const created = await calls.call(
    "createWebhook",
    client.POST(base, {
      params: { path: project },
      body: { url: "http://127.0.0.1:9/hooks", events: ["category.created"], description: "client" },
    }),
  );
  const path = { ...project, webhook_id: created.id };
  await calls.call("listWebhooks", client.GET(base, { params: { path: project } }));
  await calls.call("getWebhook", client.GET(`${base}/{webhook_id}`, { params: { path } }));
  await calls.call(
    "updateWebhook",
    client.PATCH(`${base}/{webhook_id}`, { params: { path }, body: { description: "renamed" } }),
  );
  await calls.call("rotateWebhookSecret", client.POST(`${base}/{webhook_id}/rotate-secret`, { params: { path } }));
  await calls.call(
    "listWebhookDeliveries",
    client.GET(`${base}/{webhook_id}/deliveries`, { params: { path, query: { limit: 10 } } }),
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
  await calls.call("openapi", client.GET("/openapi.json"));
  for (const [name, path] of [
    ["redoc", "/redoc"],
    ["redocScript", "/redoc/redoc.standalone.js"],
    ["dashboard", "/dashboard"],
    ["dashboardScript", "/dashboard/app.js"],
    ["dashboardStyle", "/dashboard/app.css"],
  ] as const) {
    await calls.call(name, client.GET(path, { parseAs: "text" }));
  }
}

/** The label history of the thread, the review queue, the quality table and the review threshold. */
async function exerciseLabels(client: KapaClient, calls: Calls, thread: ProjectPath & { thread_id: string }) {
  const project = { project_id: thread.project_id };
  await calls.call(
    "listThreadLabels",
    client.GET(`${PROJECT}/threads/{thread_id}/labels`, { params: { path: thread } }),
  );
  await calls.call("categoryQuality", client.GET(`${PROJECT}/categories/quality`, { params: { path: project } }));
  const settings = await calls.call(
    "getProjectSettings",
    client.GET(`${PROJECT}/settings`, { params: { path: project } }),
  );
  await calls.call(
    "updateProjectSettings",
    client.PATCH(`${PROJECT}/settings`, {
      params: { path: project },
      body: { review_threshold: settings.review_threshold },
    }),
  );
  await calls.call(
    "listThreads",
    client.GET(`${PROJECT}/threads`, {
      params: { path: project, query: { review: "true" } },
    }),
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
  const deleted = await client.DELETE(`${PROJECT}/categories/{category_id}`, {
    params: { path: { ...project, category_id: categoryId } },
  });
  if (deleted.response.status !== 204) throw new Error(`deleteCategory: ${deleted.response.status}`);
  calls.operations.push("deleteCategory");
  await exerciseAnalyticsAndExports(client, calls, project);
  await exerciseWebhooks(client, calls, project);
  await exercisePages(client, calls);
  return { operations: calls.operations, threadId: thread.thread_id, categoryId, jobStatus };
}
