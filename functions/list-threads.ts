import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";
import { runtime } from "../shared/runtime.js";
import { listThreads } from "../shared/threads/service.js";

export const handler = httpHandler(routes.listThreads, async ({ path, query, linkTo }) => {
  const { threads } = await runtime();
  return { status: 200, body: await listThreads(threads, { projectId: path.project_id, ...query, linkTo }) };
});
