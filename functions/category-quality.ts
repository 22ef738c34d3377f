import { categoryQuality, QualityRepository } from "../shared/categories/quality.js";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toCategoryQualityResource } from "../shared/http/label-resources.js";
import { routes } from "../shared/http/routes.js";

const quality = handlerRuntime((shared) => new QualityRepository(shared.database.db));

export const handler = httpHandler(routes.categoryQuality, async ({ path, query }) => {
  const range = { after: query.created_after, before: query.created_before };
  return {
    status: 200,
    body: toCategoryQualityResource(await categoryQuality(await quality(), path.project_id, range)),
  };
});
