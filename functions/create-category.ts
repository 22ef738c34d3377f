import { httpHandler } from "../shared/http/handler.js";
import { toCategoryResource } from "../shared/http/resources.js";
import { routes } from "../shared/http/routes.js";
import { runtime } from "../shared/platform/runtime.js";

export const handler = httpHandler(routes.createCategory, async ({ path, body }) => {
  const { categories } = await runtime();
  return { status: 201, body: toCategoryResource(await categories.create(path.project_id, body)) };
});
