import { analyticsQuery, categoryTrends } from "./analytics-schemas.js";
import { createExportRequest, exportPath, exportResource, exportStarted } from "./export-schemas.js";
import {
  categoryQuality,
  categoryQualityQuery,
  labelHistoryPage,
  labelHistoryQuery,
  projectSettings,
  updateProjectSettingsRequest,
} from "./label-schemas.js";
import { type RouteDef, routeGroup } from "./route.js";
import {
  category,
  categoryList,
  categoryPath,
  categoryStats,
  categoryStatsQuery,
  chatRequest,
  chatResponse,
  createCategoryRequest,
  listThreadsQuery,
  projectPath,
  reclassifyJob,
  reclassifyPath,
  reclassifyRequest,
  thread,
  threadDetail,
  threadPage,
  threadPath,
  updateCategoryRequest,
  updateThreadRequest,
} from "./schemas.js";
import {
  createWebhookRequest,
  deliveriesQuery,
  deliveryPage,
  redeliverPath,
  redeliverResponse,
  updateWebhookRequest,
  WEBHOOKS_DESCRIPTION,
  webhook,
  webhookList,
  webhookPath,
  webhookWithSecret,
} from "./webhook-schemas.js";

const chatRoute = routeGroup({ tag: "Chat" });
const threadRoute = routeGroup({ tag: "Threads" });
const categoryRoute = routeGroup({ tag: "Categories" });
const analyticsRoute = routeGroup({ tag: "Analytics" });
const exportRoute = routeGroup({ tag: "Exports" });
const projectRoute = routeGroup({ tag: "Projects" });
const webhookRoute = routeGroup({ tag: "Webhooks", handler: "webhook-api" });
const docsRoute = routeGroup({ tag: "Docs", prefix: "", auth: "none" });

/** The one route table: API Gateway resources, the local gateway and the OpenAPI document come from it. */
export const routes = {
  chat: chatRoute("chat", "POST /chat", {
    handler: "chat",
    summary: "Ask a question; starts a thread, or continues one with thread_id",
    description:
      "Answers the question from the project's documentation and stores both in a thread. Without `thread_id` a new thread starts; with one, the question continues it (the answer sees the earlier questions). The thread is then labelled with a category in the background.",
    request: { path: projectPath, body: chatRequest },
    success: { status: 200, description: "The answer, stored in the thread", schema: chatResponse },
    errors: [404],
  }),
  listThreads: threadRoute("listThreads", "GET /threads", {
    handler: "list-threads",
    summary: "List the project's threads, newest first",
    description:
      "Threads newest first, with their label. Page with `limit` and `offset`, or follow the `next`/`previous` links (a cursor, cheap at any depth). Filter by category (`none`: unlabelled), by who labelled them, and by creation time.",
    request: { path: projectPath, query: listThreadsQuery },
    success: { status: 200, description: "A page of threads", schema: threadPage },
  }),
  getThread: threadRoute("getThread", "GET /threads/{thread_id}", {
    handler: "get-thread",
    summary: "One thread with its questions and answers",
    description: "The thread, its label, and its questions and answers in the order they were asked.",
    request: { path: threadPath },
    success: { status: 200, description: "The thread", schema: threadDetail },
    errors: [404],
  }),
  updateThread: threadRoute("updateThread", "PATCH /threads/{thread_id}", {
    handler: "update-thread",
    summary: "Set a user label on a thread, or remove it (null) to hand the thread back to the classifier",
    description:
      "A user label is never overwritten by the classifier or by a reclassify job. Setting `category_id` to null removes it and queues the thread for the classifier.",
    request: { path: threadPath, body: updateThreadRequest },
    success: { status: 200, description: "The thread", schema: thread },
    errors: [404],
  }),
  listCategories: categoryRoute("listCategories", "GET /categories", {
    handler: "list-categories",
    summary: "The project's categories",
    description: "Every category of the project, sorted by name. New projects start with a default set.",
    request: { path: projectPath },
    success: { status: 200, description: "The categories, by name", schema: categoryList },
  }),
  createCategory: categoryRoute("createCategory", "POST /categories", {
    handler: "create-category",
    summary: "Create a category (names are unique per project, case-insensitively; at most 100)",
    description:
      "Adds a category the classifier can choose from. Existing labels do not change: start a reclassify job to label threads again.",
    request: { path: projectPath, body: createCategoryRequest },
    success: { status: 201, description: "The category", schema: category },
    errors: [409],
  }),
  categoryStats: categoryRoute("categoryStats", "GET /categories/stats", {
    handler: "category-stats",
    summary: "Thread counts per category, unlabelled and by source, for a period",
    description:
      "Counts the threads created in `[created_after, created_before)` (both optional) per category and by who labelled them, plus those without a label.",
    request: { path: projectPath, query: categoryStatsQuery },
    success: { status: 200, description: "The counts", schema: categoryStats },
  }),
  updateCategory: categoryRoute("updateCategory", "PATCH /categories/{category_id}", {
    handler: "update-category",
    summary: "Rename or re-describe a category; its labels keep pointing at it",
    description: "Give `name`, `description` or both. The threads labelled with it keep the label.",
    request: { path: categoryPath, body: updateCategoryRequest },
    success: { status: 200, description: "The category", schema: category },
    errors: [404, 409],
  }),
  deleteCategory: categoryRoute("deleteCategory", "DELETE /categories/{category_id}", {
    handler: "delete-category",
    summary: "Delete a category: its threads become unlabelled and are classified again",
    description:
      "Removes the category and its labels, user labels included; its threads are queued for the classifier. Answers 204 with no body.",
    request: { path: categoryPath },
    success: { status: 204, description: "Deleted" },
    errors: [404],
  }),
  startReclassify: categoryRoute("startReclassify", "POST /reclassify", {
    handler: "reclassify-start",
    summary: "Label the project's threads again in the background (never a user's label); returns the job",
    description:
      "Starts a background job that queues the project's threads for the classifier (scope `unlabelled`: only threads without a label; `classifier`: also those the classifier labelled). One job per project at a time (409 otherwise); 404 for a project deleted since its key was cached; 503 where the backfill service is not deployed.",
    request: { path: projectPath, body: reclassifyRequest },
    success: { status: 202, description: "The job, started", schema: reclassifyJob },
    errors: [404, 409],
  }),
  getReclassify: categoryRoute("getReclassify", "GET /reclassify/{job_id}", {
    handler: "reclassify-status",
    summary: "A reclassify job's status and progress",
    description: "Poll it until `status` is `done` or `failed`; `progress` counts the project's threads.",
    request: { path: reclassifyPath },
    success: { status: 200, description: "The job", schema: reclassifyJob },
    errors: [404],
  }),
  // Analytics ------------------------------------------------------------------------------------
  categoryTrends: analyticsRoute("categoryTrends", "GET /analytics/categories", {
    handler: "analytics-categories",
    summary:
      "Threads, questions and labels per day, week or month in a time zone's calendar: continuous buckets, oldest first, at most 400",
    request: { path: projectPath, query: analyticsQuery },
    success: { status: 200, description: "The buckets", schema: categoryTrends },
  }),
  createExport: exportRoute("createExport", "POST /exports", {
    handler: "export-start",
    summary: "Export the project's threads (the list's filters) to a CSV or NDJSON file, in the background",
    request: { path: projectPath, body: createExportRequest },
    success: { status: 202, description: "The export, started: poll it until it is done", schema: exportStarted },
  }),
  getExport: exportRoute("getExport", "GET /exports/{export_id}", {
    handler: "export-status",
    summary: "An export's status; once done, a short-lived download link",
    request: { path: exportPath },
    success: { status: 200, description: "The export", schema: exportResource },
    errors: [404],
  }),
  // Label history, review threshold and label quality ----------------------------------------------
  threadLabels: threadRoute("listThreadLabels", "GET /threads/{thread_id}/labels", {
    handler: "thread-labels",
    summary: "Every change of the thread's label, oldest first",
    description:
      "Who changed the label (a user's API key, the classifier's model, or the system when a category was deleted), from what to what, and the classifier's confidence and reason. Follow `next` for more.",
    request: { path: threadPath, query: labelHistoryQuery },
    success: { status: 200, description: "A page of the label history", schema: labelHistoryPage },
    errors: [404],
  }),
  categoryQuality: categoryRoute("categoryQuality", "GET /categories/quality", {
    handler: "category-quality",
    summary: "How the classifier's labels fared with users, per category: confirmed, unchanged, changed and to what",
    description:
      "Reads the classifier labels written in `[created_after, created_before)` (default: the 30 days before `created_before`, itself default now), the newest 20,000 at most (`truncated` says when there were more), and what the label history says happened next to each.",
    request: { path: projectPath, query: categoryQualityQuery },
    success: { status: 200, description: "The quality table", schema: categoryQuality },
  }),
  getProjectSettings: projectRoute("getProjectSettings", "GET /settings", {
    handler: "project-settings",
    summary: "The project's settings (the review threshold)",
    request: { path: projectPath },
    success: { status: 200, description: "The settings", schema: projectSettings },
    errors: [404],
  }),
  updateProjectSettings: projectRoute("updateProjectSettings", "PATCH /settings", {
    handler: "project-settings",
    summary: "Change the project's settings",
    request: { path: projectPath, body: updateProjectSettingsRequest },
    success: { status: 200, description: "The settings", schema: projectSettings },
    errors: [404],
  }),
  // Webhooks: one Lambda, functions/webhook-api.ts, serves them -----------------------------------
  createWebhook: webhookRoute("createWebhook", "POST /webhooks", {
    summary: "Subscribe an endpoint to label and category events; answers its signing secret (shown only here)",
    description: `Events: \`thread.labelled\` (any label change, by the classifier, a user, or the system when a category is deleted), \`category.created\`, \`category.updated\`, \`category.deleted\`. ${WEBHOOKS_DESCRIPTION} A URL on a private, loopback, link-local, multicast or reserved address (or a name resolving to one) is refused with 400; 409 beyond the cap.`,
    request: { path: projectPath, body: createWebhookRequest },
    success: { status: 201, description: "The endpoint, with its secret", schema: webhookWithSecret },
    errors: [409],
  }),
  listWebhooks: webhookRoute("listWebhooks", "GET /webhooks", {
    summary: "The project's webhook endpoints (never their secrets)",
    request: { path: projectPath },
    success: { status: 200, description: "The endpoints, oldest first", schema: webhookList },
  }),
  getWebhook: webhookRoute("getWebhook", "GET /webhooks/{webhook_id}", {
    summary: "One webhook endpoint; `enabled` false with `disabled_reason` when the service disabled it",
    request: { path: webhookPath },
    success: { status: 200, description: "The endpoint", schema: webhook },
    errors: [404],
  }),
  updateWebhook: webhookRoute("updateWebhook", "PATCH /webhooks/{webhook_id}", {
    summary: "Change an endpoint's url, events, description, or enable/disable it",
    description:
      "Enabling an endpoint the service disabled resets its failure count. A new url is checked as at creation.",
    request: { path: webhookPath, body: updateWebhookRequest },
    success: { status: 200, description: "The endpoint", schema: webhook },
    errors: [404],
  }),
  deleteWebhook: webhookRoute("deleteWebhook", "DELETE /webhooks/{webhook_id}", {
    summary: "Delete an endpoint and its delivery log; answers 204",
    request: { path: webhookPath },
    success: { status: 204, description: "Deleted" },
    errors: [404],
  }),
  rotateWebhookSecret: webhookRoute("rotateWebhookSecret", "POST /webhooks/{webhook_id}/rotate-secret", {
    summary: "Replace the signing secret; the old one keeps signing (a second signature) for 24 h",
    request: { path: webhookPath },
    success: { status: 200, description: "The endpoint, with its new secret", schema: webhookWithSecret },
    errors: [404],
  }),
  listWebhookDeliveries: webhookRoute("listWebhookDeliveries", "GET /webhooks/{webhook_id}/deliveries", {
    summary: "The endpoint's delivery attempts, newest first; follow `next` for older ones",
    request: { path: webhookPath, query: deliveriesQuery },
    success: { status: 200, description: "A page of attempts", schema: deliveryPage },
    errors: [404],
  }),
  redeliverWebhookEvent: webhookRoute(
    "redeliverWebhookEvent",
    "POST /webhooks/{webhook_id}/deliveries/{event_id}/redeliver",
    {
      summary:
        "Send one of the endpoint's events (of a type it subscribes to, not older than it) again (same webhook-id), with a fresh retry schedule; any other event is 404",
      request: { path: redeliverPath },
      success: { status: 202, description: "Queued", schema: redeliverResponse },
      errors: [404],
    },
  ),
  openapi: docsRoute("openapi", "GET /openapi.json", {
    handler: "docs",
    summary: "This OpenAPI 3.1 document",
    description:
      "Generated from the route table and its validation schemas: what the API accepts is what is documented here.",
    request: {},
    success: {
      status: 200,
      description: "OpenAPI document",
      contentType: "application/json",
      example: { openapi: "3.1.0", info: { title: "kapa-service API", version: "1.0.0" }, paths: {} },
    },
  }),
  redoc: docsRoute("redoc", "GET /redoc", {
    handler: "docs",
    summary: "API reference rendered by Redoc",
    description: "This document rendered by Redoc. The page loads nothing from outside this API.",
    request: {},
    success: {
      status: 200,
      description: "HTML page",
      contentType: "text/html",
      example: '<!doctype html><html lang="en"><body><redoc spec-url="openapi.json"></redoc></body></html>',
    },
  }),
  redocScript: docsRoute("redocScript", "GET /redoc/redoc.standalone.js", {
    handler: "docs",
    summary: "The Redoc script, served by us so the page works offline",
    description: "Redoc's standalone bundle, served by the API so that /redoc needs no CDN.",
    request: {},
    success: {
      status: 200,
      description: "JavaScript",
      contentType: "application/javascript",
      example: "/*! For license information please see redoc.standalone.js.LICENSE.txt */",
    },
  }),
  // The reference dashboard (web/dashboard/): a page on the public API, served offline -------------
  dashboard: docsRoute("dashboard", "GET /dashboard", {
    handler: "dashboard",
    summary: "Reference analytics dashboard built on this API (enter a project id and key)",
    request: {},
    success: { status: 200, description: "HTML page", contentType: "text/html" },
  }),
  dashboardScript: docsRoute("dashboardScript", "GET /dashboard/app.js", {
    handler: "dashboard",
    summary: "The dashboard's script (its chart library bundled in), served by us so the page works offline",
    request: {},
    success: { status: 200, description: "JavaScript", contentType: "application/javascript" },
  }),
  dashboardStyle: docsRoute("dashboardStyle", "GET /dashboard/app.css", {
    handler: "dashboard",
    summary: "The dashboard's styles",
    request: {},
    success: { status: 200, description: "CSS", contentType: "text/css" },
  }),
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof routes;
export const routeList: readonly RouteDef[] = Object.values(routes);
