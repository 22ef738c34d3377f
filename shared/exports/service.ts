import { randomBytes, randomUUID } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { ExportFilters, ExportFormat, ThreadExportRow } from "../db/schema.js";
import { NotFoundError, UnavailableError } from "../errors.js";
import type { ExportResource } from "../http/analytics-schemas.js";
import { logger } from "../logger.js";
import type { ThreadFilters, ThreadsRepository } from "../threads/repository.js";
import { encoderFor } from "./format.js";
import {
  EXPORT_DEADLINE_MARGIN_MS,
  EXPORT_RETENTION_DAYS,
  EXPORT_STALE_SECONDS,
  type ExportQueue,
  exportMessage,
} from "./queue.js";
import type { ExportClaim, ExportsRepository } from "./repository.js";
import { presignDownload, s3Sink } from "./s3.js";
import { writeExport } from "./stream.js";

export interface StartExportInput {
  projectId: string;
  format: ExportFormat;
  includeQuestions: boolean;
  filters: ThreadFilters;
}

/** Every export object's key starts with this (the IAM grants are scoped to it). */
export const EXPORT_KEY_PREFIX = "exports/";

/** An object key nobody can guess: 256 random bits (the export id is not part of it). */
export function newExportKey(projectId: string, format: ExportFormat): string {
  return `${EXPORT_KEY_PREFIX}${projectId}/${randomBytes(32).toString("base64url")}.${encoderFor(format, false).extension}`;
}

const toStoredFilters = (f: ThreadFilters): ExportFilters => ({
  category: f.category,
  source: f.source,
  createdAfter: f.createdAfter?.toISOString(),
  createdBefore: f.createdBefore?.toISOString(),
});

/**
 * Records a running export and hands it to the worker through the export queue. A queue that
 * refuses the message fails the export at once, and the client gets a 503 to retry.
 */
export async function startExport(
  deps: { exports: ExportsRepository; queue: ExportQueue },
  input: StartExportInput,
): Promise<ThreadExportRow> {
  const row = await deps.exports.create({
    id: randomUUID(),
    projectId: input.projectId,
    format: input.format,
    includeQuestions: input.includeQuestions,
    filters: toStoredFilters(input.filters),
    s3Key: newExportKey(input.projectId, input.format),
  });
  try {
    await deps.queue.send({ exportId: row.id });
  } catch (error) {
    logger.error("export: could not enqueue", { exportId: row.id, error });
    await deps.exports.fail(row.id, "could not enqueue the export");
    throw new UnavailableError("Could not start the export, please retry");
  }
  return row;
}

type PublicStatus = ExportResource["status"];

function publicStatus(row: ThreadExportRow, now: Date): PublicStatus {
  if (row.status === "running" && now.getTime() - row.updatedAt.getTime() > EXPORT_STALE_SECONDS * 1000) {
    return "failed"; // its worker died (see EXPORT_STALE_SECONDS)
  }
  return row.status;
}

/** The export as the API shows it, with a fresh presigned link while the file exists. */
export async function getExport(
  deps: {
    exports: ExportsRepository;
    s3: S3Client;
    /** The export bucket; unset, a finished export cannot be downloaded (503). */
    bucket: string | undefined;
    urlTtlSeconds: number;
    now?: () => Date;
  },
  projectId: string,
  exportId: string,
): Promise<ExportResource> {
  const row = await deps.exports.get(projectId, exportId);
  if (!row) throw new NotFoundError(`Export ${exportId} not found`);
  const now = deps.now?.() ?? new Date();
  const status = publicStatus(row, now);
  const kept = row.finishedAt && now.getTime() - row.finishedAt.getTime() < EXPORT_RETENTION_DAYS * 86_400_000;
  const download = status === "done" && kept;
  if (download && !deps.bucket) throw new UnavailableError("Exports are not configured here (EXPORT_BUCKET)");
  return {
    id: row.id,
    status,
    format: row.format,
    include_questions: row.includeQuestions,
    rows: row.rows,
    created_at: row.createdAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
    url: download
      ? await presignDownload(deps.s3, { bucket: deps.bucket as string, key: row.s3Key }, deps.urlTtlSeconds)
      : null,
    expires_at: download ? new Date(now.getTime() + deps.urlTtlSeconds * 1000).toISOString() : null,
  };
}

export function toExportStarted(row: ThreadExportRow) {
  return { id: row.id, status: row.status };
}

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
  exports: ExportsRepository;
  threads: ThreadsRepository;
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

export type { ExportClaim };
