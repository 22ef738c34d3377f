import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toThreadResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";
import { updateThreadLabel } from "../shared/threads/service.js";

export const handler = httpHandler(routes.updateThread, async ({ path, body }) => ({
  status: 200,
  body: toThreadResource(await updateThreadLabel(await runtime(), path.project_id, path.thread_id, body.category_id)),
}));
