import { httpHandler } from "../shared/http/handler.js";
import { toThreadResource } from "../shared/http/resources.js";
import { routes } from "../shared/http/routes.js";
import { runtime } from "../shared/platform/runtime.js";
import { updateThreadLabel } from "../shared/threads/service.js";

export const handler = httpHandler(routes.updateThread, async ({ path, body }) => ({
  status: 200,
  body: toThreadResource(await updateThreadLabel(await runtime(), path.project_id, path.thread_id, body.category_id)),
}));
