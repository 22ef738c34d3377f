import { categoryTrends } from "../shared/analytics/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toCategoryTrendsResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.categoryTrends, async ({ path, query }) => {
  const { analytics, categories } = await runtime();
  const trends = await categoryTrends({ analytics, categories }, path.project_id, {
    interval: query.interval,
    tz: query.tz,
    createdAfter: query.created_after,
    createdBefore: query.created_before,
  });
  return { status: 200, body: toCategoryTrendsResource(trends) };
});
