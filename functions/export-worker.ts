import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { loadExportsEnv, required } from "../shared/exports/config.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { createS3Client } from "../shared/exports/s3.js";
import { runExport } from "../shared/exports/worker.js";
import { logger, withLambdaContext } from "../shared/platform/logger.js";

/** The worker's ports, built at the first invocation: one S3 client per process (AWS_ENDPOINT_URL_S3 locally). */
const workerRuntime = handlerRuntime(({ database, threads }) => {
  const env = loadExportsEnv();
  return {
    exports: new ExportsRepository(database.db),
    threads,
    s3: createS3Client(),
    bucket: required(env, "EXPORT_BUCKET"),
    pageSize: env.EXPORT_PAGE_SIZE,
  };
});

/**
 * SQS consumer of the export queue (batch size 1): streams one export into S3. A failed export is
 * recorded as failed and its message is done; a message that could not be processed at all (the
 * database is down) is reported as a batch item failure and comes back.
 */
export const handler = withLambdaContext(async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  const deps = await workerRuntime();
  const deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
  const failed: string[] = [];
  for (const record of event.Records) {
    try {
      await runExport(deps, record.body, { deadline });
    } catch (error) {
      logger.error("export worker: message not processed", { messageId: record.messageId, error });
      failed.push(record.messageId);
    }
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
});
