import type * as z from "zod";
import { analyticsQuery, categoryTrends } from "./analytics-schemas.js";
import { createExportRequest, exportPath, exportResource, exportStarted } from "./export-schemas.js";
import { labelRoutes } from "./label-routes.js";
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
import { webhookRoutes } from "./webhook-routes.js";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteRequest {
  path?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

export interface RouteDef {
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource syntax; a trailing slash is optional on every path. */
  path: string;
  /** The Lambda entry point: functions/<handler>.ts. */
  handler: string;
  auth: "apiKey" | "none";
  summary: string;
  /** The operation's longer description in the document (default: the summary). */
  description?: string;
  tag: string;
  request: RouteRequest;
  /** `example`: for a response without a zod schema (the schemas carry their own examples). */
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string; example?: unknown };
  /**
   * Error statuses this route documents besides the ones its declaration implies (see
   * routeStatuses in openapi.ts: 429 always; 400 with a path, query or body; 401, 403 and 503 with
   * an API key; 413 with a body).
   */
  errors: number[];
}

const PROJECT = "/query/v1/projects/{project_id}";

export function route<const R extends RouteDef>(def: R): R {
  return def;
}

/** The one route table: API Gateway resources, the local gateway and the OpenAPI document come from it. */
export const routes = {
  chat: route({
    operationId: "chat",
    method: "POST",
    path: `${PROJECT}/chat`,
    handler: "chat",
    auth: "apiKey",
    tag: "Chat",
    summary: "Ask a question; starts a thread, or continues one with thread_id",
    description:
      "Answers the question from the project's documentation and stores both in a thread. Without `thread_id` a new thread starts; with one, the question continues it (the answer sees the earlier questions). The thread is then labelled with a category in the background.",
    request: { path: projectPath, body: chatRequest },
    success: { status: 200, description: "The answer, stored in the thread", schema: chatResponse },
    errors: [400, 404, 413],
  }),
  listThreads: route({
    operationId: "listThreads",
    method: "GET",
    path: `${PROJECT}/threads`,
    handler: "list-threads",
    auth: "apiKey",
    tag: "Threads",
    summary: "List the project's threads, newest first",
    description:
      "Threads newest first, with their label. Page with `limit` and `offset`, or follow the `next`/`previous` links (a cursor, cheap at any depth). Filter by category (`none`: unlabelled), by who labelled them, and by creation time.",
    request: { path: projectPath, query: listThreadsQuery },
    success: { status: 200, description: "A page of threads", schema: threadPage },
    errors: [400],
  }),
  getThread: route({
    operationId: "getThread",
    method: "GET",
    path: `${PROJECT}/threads/{thread_id}`,
    handler: "get-thread",
    auth: "apiKey",
    tag: "Threads",
    summary: "One thread with its questions and answers",
    description: "The thread, its label, and its questions and answers in the order they were asked.",
    request: { path: threadPath },
    success: { status: 200, description: "The thread", schema: threadDetail },
    errors: [400, 404],
  }),
  updateThread: route({
    operationId: "updateThread",
    method: "PATCH",
    path: `${PROJECT}/threads/{thread_id}`,
    handler: "update-thread",
    auth: "apiKey",
    tag: "Threads",
    summary: "Set a user label on a thread, or remove it (null) to hand the thread back to the classifier",
    description:
      "A user label is never overwritten by the classifier or by a reclassify job. Setting `category_id` to null removes it and queues the thread for the classifier.",
    request: { path: threadPath, body: updateThreadRequest },
    success: { status: 200, description: "The thread", schema: thread },
    errors: [400, 404, 413],
  }),
  listCategories: route({
    operationId: "listCategories",
    method: "GET",
    path: `${PROJECT}/categories`,
    handler: "list-categories",
    auth: "apiKey",
    tag: "Categories",
    summary: "The project's categories",
    description: "Every category of the project, sorted by name. New projects start with a default set.",
    request: { path: projectPath },
    success: { status: 200, description: "The categories, by name", schema: categoryList },
    errors: [],
  }),
  createCategory: route({
    operationId: "createCategory",
    method: "POST",
    path: `${PROJECT}/categories`,
    handler: "create-category",
    auth: "apiKey",
    tag: "Categories",
    summary: "Create a category (names are unique per project, case-insensitively; at most 100)",
    description:
      "Adds a category the classifier can choose from. Existing labels do not change: start a reclassify job to label threads again.",
    request: { path: projectPath, body: createCategoryRequest },
    success: { status: 201, description: "The category", schema: category },
    errors: [400, 409, 413],
  }),
  categoryStats: route({
    operationId: "categoryStats",
    method: "GET",
    path: `${PROJECT}/categories/stats`,
    handler: "category-stats",
    auth: "apiKey",
    tag: "Categories",
    summary: "Thread counts per category, unlabelled and by source, for a period",
    description:
      "Counts the threads created in `[created_after, created_before)` (both optional) per category and by who labelled them, plus those without a label.",
    request: { path: projectPath, query: categoryStatsQuery },
    success: { status: 200, description: "The counts", schema: categoryStats },
    errors: [400],
  }),
  updateCategory: route({
    operationId: "updateCategory",
    method: "PATCH",
    path: `${PROJECT}/categories/{category_id}`,
    handler: "update-category",
    auth: "apiKey",
    tag: "Categories",
    summary: "Rename or re-describe a category; its labels keep pointing at it",
    description: "Give `name`, `description` or both. The threads labelled with it keep the label.",
    request: { path: categoryPath, body: updateCategoryRequest },
    success: { status: 200, description: "The category", schema: category },
    errors: [400, 404, 409, 413],
  }),
  deleteCategory: route({
    operationId: "deleteCategory",
    method: "DELETE",
    path: `${PROJECT}/categories/{category_id}`,
    handler: "delete-category",
    auth: "apiKey",
    tag: "Categories",
    summary: "Delete a category: its threads become unlabelled and are classified again",
    description:
      "Removes the category and its labels, user labels included; its threads are queued for the classifier. Answers 204 with no body.",
    request: { path: categoryPath },
    success: { status: 204, description: "Deleted" },
    errors: [400, 404],
  }),
  startReclassify: route({
    operationId: "startReclassify",
    method: "POST",
    path: `${PROJECT}/reclassify`,
    handler: "reclassify-start",
    auth: "apiKey",
    tag: "Categories",
    summary: "Label the project's threads again in the background (never a user's label); returns the job",
    description:
      "Starts a background job that queues the project's threads for the classifier (scope `unlabelled`: only threads without a label; `classifier`: also those the classifier labelled). One job per project at a time (409 otherwise); 404 for a project deleted since its key was cached; 503 where the backfill service is not deployed.",
    request: { path: projectPath, body: reclassifyRequest },
    success: { status: 202, description: "The job, started", schema: reclassifyJob },
    errors: [404, 409, 503],
  }),
  getReclassify: route({
    operationId: "getReclassify",
    method: "GET",
    path: `${PROJECT}/reclassify/{job_id}`,
    handler: "reclassify-status",
    auth: "apiKey",
    tag: "Categories",
    summary: "A reclassify job's status and progress",
    description: "Poll it until `status` is `done` or `failed`; `progress` counts the project's threads.",
    request: { path: reclassifyPath },
    success: { status: 200, description: "The job", schema: reclassifyJob },
    errors: [400, 404],
  }),
  // Analytics ------------------------------------------------------------------------------------
  categoryTrends: route({
    operationId: "categoryTrends",
    method: "GET",
    path: `${PROJECT}/analytics/categories`,
    handler: "analytics-categories",
    auth: "apiKey",
    tag: "Analytics",
    summary:
      "Threads, questions and labels per day, week or month in a time zone's calendar: continuous buckets, oldest first, at most 400",
    request: { path: projectPath, query: analyticsQuery },
    success: { status: 200, description: "The buckets", schema: categoryTrends },
    errors: [400],
  }),
  createExport: route({
    operationId: "createExport",
    method: "POST",
    path: `${PROJECT}/exports`,
    handler: "export-start",
    auth: "apiKey",
    tag: "Exports",
    summary: "Export the project's threads (the list's filters) to a CSV or NDJSON file, in the background",
    request: { path: projectPath, body: createExportRequest },
    success: { status: 202, description: "The export, started: poll it until it is done", schema: exportStarted },
    errors: [400, 413, 503],
  }),
  getExport: route({
    operationId: "getExport",
    method: "GET",
    path: `${PROJECT}/exports/{export_id}`,
    handler: "export-status",
    auth: "apiKey",
    tag: "Exports",
    summary: "An export's status; once done, a short-lived download link",
    request: { path: exportPath },
    success: { status: 200, description: "The export", schema: exportResource },
    errors: [400, 404],
  }),
  ...labelRoutes,
  ...webhookRoutes,
  openapi: route({
    operationId: "openapi",
    method: "GET",
    path: "/openapi.json",
    handler: "docs",
    auth: "none",
    tag: "Docs",
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
    errors: [],
  }),
  redoc: route({
    operationId: "redoc",
    method: "GET",
    path: "/redoc",
    handler: "docs",
    auth: "none",
    tag: "Docs",
    summary: "API reference rendered by Redoc",
    description: "This document rendered by Redoc. The page loads nothing from outside this API.",
    request: {},
    success: {
      status: 200,
      description: "HTML page",
      contentType: "text/html",
      example: '<!doctype html><html lang="en"><body><redoc spec-url="openapi.json"></redoc></body></html>',
    },
    errors: [],
  }),
  redocScript: route({
    operationId: "redocScript",
    method: "GET",
    path: "/redoc/redoc.standalone.js",
    handler: "docs",
    auth: "none",
    tag: "Docs",
    summary: "The Redoc script, served by us so the page works offline",
    description: "Redoc's standalone bundle, served by the API so that /redoc needs no CDN.",
    request: {},
    success: {
      status: 200,
      description: "JavaScript",
      contentType: "application/javascript",
      example: "/*! For license information please see redoc.standalone.js.LICENSE.txt */",
    },
    errors: [],
  }),
  // The reference dashboard (web/dashboard/): a page on the public API, served offline -------------
  dashboard: route({
    operationId: "dashboard",
    method: "GET",
    path: "/dashboard",
    handler: "dashboard",
    auth: "none",
    tag: "Docs",
    summary: "Reference analytics dashboard built on this API (enter a project id and key)",
    request: {},
    success: { status: 200, description: "HTML page", contentType: "text/html" },
    errors: [],
  }),
  dashboardScript: route({
    operationId: "dashboardScript",
    method: "GET",
    path: "/dashboard/app.js",
    handler: "dashboard",
    auth: "none",
    tag: "Docs",
    summary: "The dashboard's script (its chart library bundled in), served by us so the page works offline",
    request: {},
    success: { status: 200, description: "JavaScript", contentType: "application/javascript" },
    errors: [],
  }),
  dashboardStyle: route({
    operationId: "dashboardStyle",
    method: "GET",
    path: "/dashboard/app.css",
    handler: "dashboard",
    auth: "none",
    tag: "Docs",
    summary: "The dashboard's styles",
    request: {},
    success: { status: 200, description: "CSS", contentType: "text/css" },
    errors: [],
  }),
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof routes;
export const routeList: readonly RouteDef[] = Object.values(routes);
