import { getJob, toJobResource } from "../shared/backfill/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.getReclassify, async ({ path }) => {
  const { backfill, backfillExecutions } = await runtime();
  const job = await getJob({ threads: backfill, executions: backfillExecutions }, path.project_id, path.job_id);
  return { status: 200, body: toJobResource(job) };
});
