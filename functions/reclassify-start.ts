import { startJob, toJobResource } from "../shared/backfill/service.js";
import { runtime } from "../shared/composition/runtime.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";

export const handler = httpHandler(routes.startReclassify, async ({ path, body, linkTo }) => {
  const { backfill, backfillExecutions } = await runtime();
  const job = toJobResource(
    await startJob(
      { threads: backfill, executions: backfillExecutions },
      { projectId: path.project_id, scope: body.scope },
    ),
  );
  return { status: 202, body: job, headers: { location: `${linkTo({})}${job.id}/` } };
});
