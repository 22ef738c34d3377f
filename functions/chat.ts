import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toChatResponse } from "../shared/http/response-mappers.js";
import { routes } from "../shared/http/routes.js";
import { chat } from "../shared/threads/service.js";

export const handler = httpHandler(routes.chat, async ({ path, body }) => {
  const reply = await chat(await runtime(), {
    projectId: path.project_id,
    question: body.question,
    threadId: body.thread_id,
  });
  return { status: 200, body: toChatResponse(reply) };
});
