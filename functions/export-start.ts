import { handlerRuntime } from "../shared/composition/runtime.js";
import { loadExportsEnv } from "../shared/exports/config.js";
import { type ExportQueue, SqsExportQueue } from "../shared/exports/queue.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { toExportStarted } from "../shared/exports/response-mappers.js";
import { startExport } from "../shared/exports/service.js";
import { httpHandler } from "../shared/http/handler.js";
import { routes } from "../shared/http/routes.js";

/** The export's ports, built at the first request, on the process's SQS client. */
const startRuntime = handlerRuntime(({ database, sqs }) => {
  const env = loadExportsEnv();
  const queue: ExportQueue = env.EXPORT_QUEUE_URL
    ? new SqsExportQueue(sqs, env.EXPORT_QUEUE_URL)
    : {
        send: async () => {
          throw new Error("EXPORT_QUEUE_URL is not set");
        },
      };
  return { exports: new ExportsRepository(database.db), queue, maxActive: env.EXPORT_MAX_ACTIVE_PER_PROJECT };
});

export const handler = httpHandler(routes.createExport, async ({ path, body, linkTo }) => {
  const { format, include_questions, category, source, created_after, created_before } = body;
  const row = await startExport(await startRuntime(), {
    projectId: path.project_id,
    format,
    includeQuestions: include_questions,
    filters: { category, source, createdAfter: created_after, createdBefore: created_before },
  });
  return { status: 202, body: toExportStarted(row), headers: { location: `${linkTo({})}${row.id}/` } };
});
