import { handlerRuntime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { toLabelHistoryPageResource } from "../shared/http/label-resources.js";
import { routes } from "../shared/http/routes.js";
import { LabelHistoryRepository } from "../shared/labels/history.js";
import { threadLabelHistory } from "../shared/threads/service.js";

const history = handlerRuntime((shared) => new LabelHistoryRepository(shared.database.db));

export const handler = httpHandler(routes.threadLabels, async ({ path, query, linkTo }) => {
  const page = await threadLabelHistory(await history(), path.project_id, path.thread_id, query);
  const next = page.next === null ? null : linkTo({ limit: String(page.limit), cursor: page.next });
  return { status: 200, body: toLabelHistoryPageResource(page.changes, next) };
});
