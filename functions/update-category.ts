import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toCategoryResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.updateCategory, async ({ path, body }) => {
  const { categories } = await runtime();
  return { status: 200, body: toCategoryResource(await categories.update(path.project_id, path.category_id, body)) };
});
