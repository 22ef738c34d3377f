import {
  categoryQuality,
  categoryQualityQuery,
  labelHistoryPage,
  labelHistoryQuery,
  projectSettings,
  updateProjectSettingsRequest,
} from "./label-schemas.js";
import { PROJECT, type RouteDef, route } from "./route.js";
import { projectPath, threadPath } from "./schemas.js";

/** Label history, review threshold and label quality: routes of the route table (shared/http/routes.ts). */
export const labelRoutes = {
  threadLabels: route({
    operationId: "listThreadLabels",
    method: "GET",
    path: `${PROJECT}/threads/{thread_id}/labels`,
    handler: "thread-labels",
    auth: "apiKey",
    tag: "Threads",
    summary: "Every change of the thread's label, oldest first",
    description:
      "Who changed the label (a user's API key, the classifier's model, or the system when a category was deleted), from what to what, and the classifier's confidence and reason. Follow `next` for more.",
    request: { path: threadPath, query: labelHistoryQuery },
    success: { status: 200, description: "A page of the label history", schema: labelHistoryPage },
    errors: [400, 404],
  }),
  categoryQuality: route({
    operationId: "categoryQuality",
    method: "GET",
    path: `${PROJECT}/categories/quality`,
    handler: "category-quality",
    auth: "apiKey",
    tag: "Categories",
    summary: "How the classifier's labels fared with users, per category: confirmed, unchanged, changed and to what",
    description:
      "Reads the classifier labels written in `[created_after, created_before)` (default: the 30 days before `created_before`, itself default now), the newest 20,000 at most (`truncated` says when there were more), and what the label history says happened next to each.",
    request: { path: projectPath, query: categoryQualityQuery },
    success: { status: 200, description: "The quality table", schema: categoryQuality },
    errors: [400],
  }),
  getProjectSettings: route({
    operationId: "getProjectSettings",
    method: "GET",
    path: `${PROJECT}/settings`,
    handler: "project-settings",
    auth: "apiKey",
    tag: "Projects",
    summary: "The project's settings (the review threshold)",
    request: { path: projectPath },
    success: { status: 200, description: "The settings", schema: projectSettings },
    errors: [404],
  }),
  updateProjectSettings: route({
    operationId: "updateProjectSettings",
    method: "PATCH",
    path: `${PROJECT}/settings`,
    handler: "project-settings",
    auth: "apiKey",
    tag: "Projects",
    summary: "Change the project's settings",
    request: { path: projectPath, body: updateProjectSettingsRequest },
    success: { status: 200, description: "The settings", schema: projectSettings },
    errors: [400, 404, 413],
  }),
} as const satisfies Record<string, RouteDef>;
