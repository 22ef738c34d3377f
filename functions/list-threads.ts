import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toThreadPageResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";
import { listThreads } from "../shared/threads/service.js";

export const handler = httpHandler(routes.listThreads, async ({ path, query, linkTo }) => {
  const { threads } = await runtime();
  const { category, source, created_after, created_before, ...page } = query;
  const filters = { category, source, createdAfter: created_after, createdBefore: created_before };
  const list = await listThreads(threads, { projectId: path.project_id, ...page, filters, linkTo });
  return { status: 200, body: toThreadPageResource(list) };
});
