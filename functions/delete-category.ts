import { deleteCategory } from "../shared/categories/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.deleteCategory, async ({ path }) => {
  await deleteCategory(await runtime(), path.project_id, path.category_id);
  return { status: 204 };
});
