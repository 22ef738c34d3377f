import {
  categoryQuality,
  categoryQualityQuery,
  labelHistoryPage,
  labelHistoryQuery,
  projectSettings,
  updateProjectSettingsRequest,
} from "./label-schemas.js";
import { type RouteDef, routeGroup } from "./route.js";
import { projectPath, threadPath } from "./schemas.js";

const threadRoute = routeGroup({ tag: "Threads" });
const categoryRoute = routeGroup({ tag: "Categories" });
const projectRoute = routeGroup({ tag: "Projects" });

/** Label history, review threshold and label quality: routes of the route table (shared/http/routes.ts). */
export const labelRoutes = {
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
} as const satisfies Record<string, RouteDef>;
