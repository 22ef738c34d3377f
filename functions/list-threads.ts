import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toThreadPageResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";
import { ProjectSettingsRepository } from "../shared/projects/settings.js";
import { listThreads } from "../shared/threads/service.js";

export const handler = httpHandler(routes.listThreads, async ({ path, query, linkTo }) => {
  const { threads, database } = await runtime();
  const { category, source, created_after, created_before, review, confidence_below, ...page } = query;
  const confidenceBelow =
    confidence_below ??
    (review ? (await new ProjectSettingsRepository(database.db).get(path.project_id)).reviewThreshold : undefined);
  const filters = { category, source, createdAfter: created_after, createdBefore: created_before, confidenceBelow };
  const list = await listThreads(threads, { projectId: path.project_id, ...page, filters, linkTo });
  return { status: 200, body: toThreadPageResource(list) };
});
