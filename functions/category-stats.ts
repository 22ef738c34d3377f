import { categoryStats } from "../shared/categories/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toCategoryStatsResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.categoryStats, async ({ path, query }) => {
  const { categories } = await runtime();
  const range = { after: query.created_after, before: query.created_before };
  return { status: 200, body: toCategoryStatsResource(await categoryStats(categories, path.project_id, range)) };
});
