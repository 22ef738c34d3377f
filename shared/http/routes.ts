import type { z } from "zod";
import {
  category,
  categoryList,
  categoryPath,
  categoryStats,
  categoryStatsQuery,
  chatRequest,
  chatResponse,
  createCategoryRequest,
  createExportRequest,
  exportPath,
  exportResource,
  exportStarted,
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
  tag: string;
  request: RouteRequest;
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error statuses this route documents besides the common ones. */
  errors: number[];
}

const PROJECT = "/query/v1/projects/{project_id}";

function route<const R extends RouteDef>(def: R): R {
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
    request: { path: projectPath, body: reclassifyRequest },
    success: { status: 202, description: "The job, started", schema: reclassifyJob },
    errors: [400, 409, 413],
  }),
  getReclassify: route({
    operationId: "getReclassify",
    method: "GET",
    path: `${PROJECT}/reclassify/{job_id}`,
    handler: "reclassify-status",
    auth: "apiKey",
    tag: "Categories",
    summary: "A reclassify job's status and progress",
    request: { path: reclassifyPath },
    success: { status: 200, description: "The job", schema: reclassifyJob },
    errors: [400, 404],
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
  openapi: route({
    operationId: "openapi",
    method: "GET",
    path: "/openapi.json",
    handler: "docs",
    auth: "none",
    tag: "Docs",
    summary: "This OpenAPI 3.1 document",
    request: {},
    success: { status: 200, description: "OpenAPI document", contentType: "application/json" },
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
    request: {},
    success: { status: 200, description: "HTML page", contentType: "text/html" },
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
    request: {},
    success: { status: 200, description: "JavaScript", contentType: "application/javascript" },
    errors: [],
  }),
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof routes;
export const routeList: readonly RouteDef[] = Object.values(routes);
