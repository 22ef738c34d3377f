import type { ThreadExportRow } from "../db/schema.js";
import type { ExportResource } from "../http/export-schemas.js";
import type { ExportView } from "./model.js";

/**
 * An export as the API shows it. Here rather than in shared/http/response-mappers.ts: an export's
 * content is the API's Thread (exports import shared/http), so shared/http does not import exports.
 */
export const toExportResource = ({ row, status, url, expiresAt }: ExportView): ExportResource => ({
  id: row.id,
  status,
  format: row.format,
  include_questions: row.includeQuestions,
  rows: row.rows,
  created_at: row.createdAt.toISOString(),
  finished_at: row.finishedAt?.toISOString() ?? null,
  url,
  expires_at: expiresAt?.toISOString() ?? null,
});

export const toExportStarted = (row: ThreadExportRow) => ({ id: row.id, status: row.status });
