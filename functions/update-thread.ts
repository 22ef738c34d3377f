import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toThreadResource } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";
import { updateThreadLabel } from "../shared/threads/service.js";

export const handler = httpHandler(routes.updateThread, async ({ path, body, auth }) => {
  // The route takes an API key, so the authorizer always names one.
  const actor = auth?.apiKeyId ?? "unknown";
  const thread = await updateThreadLabel(await runtime(), path.project_id, path.thread_id, body.category_id, actor);
  return { status: 200, body: toThreadResource(thread) };
});
