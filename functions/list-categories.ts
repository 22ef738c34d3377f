import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toCategoryResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.listCategories, async ({ path }) => {
  const { categories } = await runtime();
  return { status: 200, body: { results: (await categories.list(path.project_id)).map(toCategoryResource) } };
});
