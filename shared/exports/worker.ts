import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSBatchResponse } from "aws-lambda";
import type { ThreadExportRow } from "../db/schema.js";
import { logger } from "../platform/logger.js";
import { consumeRecords, type QueueRecord } from "../platform/sqs-consumer.js";
import type { ThreadFilters } from "../threads/model.js";
import type { ThreadsStore } from "../threads/repository.js";
import { encoderFor } from "./format.js";
import { EXPORT_DEADLINE_MARGIN_MS, exportMessage } from "./queue.js";
import type { ExportsStore } from "./repository.js";
import { s3Sink } from "./s3.js";
import { writeExport } from "./stream.js";

/** The filters as the export reads them: the threads that existed when it was requested. */
function runFilters(row: ThreadExportRow): ThreadFilters {
  const f = row.filters;
  // Up to the request's millisecond: a thread created while the export runs is not in the file.
  const requested = new Date(row.createdAt.getTime() + 1);
  const before = f.createdBefore ? new Date(f.createdBefore) : undefined;
  return {
    category: f.category,
    source: f.source,
    createdAfter: f.createdAfter ? new Date(f.createdAfter) : undefined,
    createdBefore: before && before < requested ? before : requested,
  };
}

export interface RunExportDeps {
  exports: ExportsStore;
  threads: ThreadsStore;
  s3: S3Client;
  bucket: string;
  pageSize: number;
}

/** Progress is written at most this often (and it is the worker's heartbeat). */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * The worker's job: claims the export, streams its threads into the S3 object and marks it done.
 * Any error fails the export (the SDK and the database client already retried what is worth
 * retrying) and is not rethrown: the message is done with. A duplicate message finds the export
 * finished and does nothing. `deadline` (epoch ms, the Lambda timeout) stops it in time to record
 * the failure.
 */
export async function runExport(
  deps: RunExportDeps,
  body: string,
  options: { deadline?: number } = {},
): Promise<"done" | "failed" | "skipped"> {
  const { exportId } = exportMessage.parse(JSON.parse(body));
  const claim = await deps.exports.claim(exportId);
  if (!claim) return "skipped";
  const { row } = claim;
  const encoder = encoderFor(row.format, row.includeQuestions);
  const sink = s3Sink({
    s3: deps.s3,
    bucket: deps.bucket,
    key: row.s3Key,
    contentType: encoder.contentType,
    fileName: `threads-${row.id}.${encoder.extension}`,
  });
  let reported = Date.now();
  const onProgress = async (rows: number) => {
    const now = Date.now();
    if (options.deadline !== undefined && now > options.deadline - EXPORT_DEADLINE_MARGIN_MS) {
      throw new Error("the export did not finish within the worker's timeout");
    }
    if (now - reported < PROGRESS_INTERVAL_MS) return;
    reported = now;
    await deps.exports.progress(claim, rows);
  };
  const spec = {
    projectId: row.projectId,
    format: row.format,
    includeQuestions: row.includeQuestions,
    filters: runFilters(row),
    pageSize: deps.pageSize,
  };
  try {
    const rows = await writeExport(deps, spec, sink, onProgress);
    return (await deps.exports.finish(claim, rows)) ? "done" : "skipped";
  } catch (error) {
    logger.error("export failed", { exportId, error });
    await deps.exports.fail(exportId, error instanceof Error ? error.message : String(error), claim);
    return "failed";
  }
}

/**
 * The export queue's consumer (batch size 1): streams each export into S3. A failed export is
 * recorded as failed and its message is done; a message that could not be processed at all (the
 * database is down) is a batch item failure and comes back.
 */
export function consumeExportMessages(
  deps: RunExportDeps,
  records: readonly QueueRecord[],
  options: { deadline?: number } = {},
): Promise<SQSBatchResponse> {
  const handle = async ({ messageId, body }: QueueRecord) => {
    try {
      await runExport(deps, body, options);
    } catch (error) {
      logger.error("export worker: message not processed", { messageId, error });
      throw error;
    }
  };
  return consumeRecords(records, handle, { inParallel: false });
}
