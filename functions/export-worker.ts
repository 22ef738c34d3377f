import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { handlerRuntime } from "../shared/composition/runtime.js";
import { loadExportsEnv, required } from "../shared/exports/config.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { createS3Client } from "../shared/exports/s3.js";
import { consumeExportMessages } from "../shared/exports/worker.js";
import { withLambdaContext } from "../shared/platform/logger.js";

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

/** SQS consumer of the export queue: shared/exports/worker.ts. */
export const handler = withLambdaContext(async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  const deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
  return consumeExportMessages(await workerRuntime(), event.Records, { deadline });
});
