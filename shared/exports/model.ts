import type { ExportFilters, ExportFormat, ExportStatus, ThreadExportRow } from "../db/schema.js";

export interface NewExport {
  id: string;
  projectId: string;
  format: ExportFormat;
  includeQuestions: boolean;
  filters: ExportFilters;
  s3Key: string;
}

/** A worker's claim on an export: the attempt number fences a slower, older claimant out. */
export interface ExportClaim {
  row: ThreadExportRow;
  attempt: number;
}

/** An export as its owner sees it: a dead worker's export shows as failed, a finished one its link. */
export interface ExportView {
  row: ThreadExportRow;
  status: ExportStatus;
  /** A presigned download link while the file is kept, else null. */
  url: string | null;
  expiresAt: Date | null;
}
