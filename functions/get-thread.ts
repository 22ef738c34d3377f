import { httpHandler } from "../shared/http/handler.js";
import { toThreadDetailResource } from "../shared/http/resources.js";
import { routes } from "../shared/http/routes.js";
import { runtime } from "../shared/platform/runtime.js";
import { getThread } from "../shared/threads/service.js";

export const handler = httpHandler(routes.getThread, async ({ path }) => {
  const { threads } = await runtime();
  return { status: 200, body: toThreadDetailResource(await getThread(threads, path.project_id, path.thread_id)) };
});
