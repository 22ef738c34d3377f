import { randomBytes, randomUUID } from "node:crypto";
import type { ExportFilters, ExportFormat, ExportStatus, ThreadExportRow } from "../db/schema.js";
import { NotFoundError, TooManyRequestsError, UnavailableError } from "../platform/errors.js";
import { logger } from "../platform/logger.js";
import type { ThreadFilters } from "../threads/model.js";
import { encoderFor } from "./format.js";
import type { DownloadLinks } from "./links.js";
import type { ExportView } from "./model.js";
import {
  EXPORT_BUSY_RETRY_AFTER_SECONDS,
  EXPORT_QUEUED_EXPIRY_SECONDS,
  EXPORT_RETENTION_DAYS,
  EXPORT_STALE_SECONDS,
  type ExportQueue,
} from "./queue.js";
import type { ExportsStore } from "./repository.js";

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
 * Records a queued export and hands it to the worker through the export queue, in its project's
 * message group. A project that already has `maxActive` unfinished exports gets a 429 naming the
 * oldest. A queue that refuses the message fails the export at once, and the client gets a 503.
 */
export async function startExport(
  deps: { exports: ExportsStore; queue: ExportQueue; maxActive: number },
  input: StartExportInput,
): Promise<ThreadExportRow> {
  const outcome = await deps.exports.createWithin(
    {
      id: randomUUID(),
      projectId: input.projectId,
      format: input.format,
      includeQuestions: input.includeQuestions,
      filters: toStoredFilters(input.filters),
      s3Key: newExportKey(input.projectId, input.format),
    },
    deps.maxActive,
  );
  if ("busy" in outcome) {
    const { busy } = outcome;
    throw new TooManyRequestsError(
      `This project already has ${deps.maxActive} export(s) queued or running (${busy.id}); retry once it has finished`,
      EXPORT_BUSY_RETRY_AFTER_SECONDS,
      busy.id,
    );
  }
  const row = outcome.created;
  try {
    await deps.queue.send({ exportId: row.id }, row.projectId);
  } catch (error) {
    logger.error("export: could not enqueue", { exportId: row.id, error });
    await deps.exports.fail(row.id, "could not enqueue the export");
    throw new UnavailableError("Could not start the export, please retry");
  }
  return row;
}

/**
 * What the owner sees. Waiting in the queue is never a failure; a running export whose worker
 * stopped heartbeating is (EXPORT_STALE_SECONDS), as is a queued one the queue no longer holds.
 * The same rule as the repository's per-project cap (`alive`).
 */
export function publicStatus(row: ThreadExportRow, now: Date): ExportStatus {
  const silentMs = now.getTime() - row.updatedAt.getTime();
  if (row.status === "running" && silentMs > EXPORT_STALE_SECONDS * 1000) return "failed";
  const waitedMs = now.getTime() - row.createdAt.getTime();
  if (row.status === "queued" && waitedMs > EXPORT_QUEUED_EXPIRY_SECONDS * 1000) return "failed";
  return row.status;
}

/** The export as its owner sees it, with a fresh presigned link while the file exists. */
export async function getExport(
  deps: {
    exports: ExportsStore;
    links: DownloadLinks;
    /** The export bucket; unset, a finished export cannot be downloaded (503). */
    bucket: string | undefined;
    urlTtlSeconds: number;
    now?: () => Date;
  },
  projectId: string,
  exportId: string,
): Promise<ExportView> {
  const row = await deps.exports.get(projectId, exportId);
  if (!row) throw new NotFoundError(`Export ${exportId} not found`);
  const now = deps.now?.() ?? new Date();
  const status = publicStatus(row, now);
  const kept = row.finishedAt && now.getTime() - row.finishedAt.getTime() < EXPORT_RETENTION_DAYS * 86_400_000;
  const download = status === "done" && kept;
  if (download && !deps.bucket) throw new UnavailableError("Exports are not configured here (EXPORT_BUCKET)");
  return {
    row,
    status,
    url: download
      ? await deps.links.presign({ bucket: deps.bucket as string, key: row.s3Key }, deps.urlTtlSeconds)
      : null,
    expiresAt: download ? new Date(now.getTime() + deps.urlTtlSeconds * 1000) : null,
  };
}
