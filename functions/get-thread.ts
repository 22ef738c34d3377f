import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toThreadDetailResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";
import { getThread } from "../shared/threads/service.js";

export const handler = httpHandler(routes.getThread, async ({ path }) => {
  const { threads } = await runtime();
  return { status: 200, body: toThreadDetailResource(await getThread(threads, path.project_id, path.thread_id)) };
});
