import * as z from "zod";
import { count, projectPath, rangeIsOrdered, rangeOrderIssue, threadFilters, uuid } from "./schemas.js";

/** The zod schemas of the export routes (shared/exports/). */

export const exportPath = projectPath.extend({ export_id: uuid("export_id") });

export const createExportRequest = z
  .object({
    format: z.enum(["csv", "ndjson"], { message: "format must be csv or ndjson" }).meta({
      description: "`csv`: RFC 4180, a header row, UTF-8. `ndjson`: one thread per line, the list's Thread",
    }),
    include_questions: z
      .boolean({ message: "include_questions must be true or false" })
      .default(false)
      .meta({ description: "Add each thread's questions and answers (CSV: a JSON array in one column)" }),
    ...threadFilters,
  })
  .strict()
  .refine(rangeIsOrdered, rangeOrderIssue)
  .meta({ id: "CreateExportRequest" });

const exportStatus = z.enum(["queued", "running", "done", "failed"]).meta({
  description:
    "`queued` until a worker takes it (waiting is never a failure), `running`, then `done` (download from `url`) or `failed` (start a new export)",
});

export const exportStarted = z.object({ id: z.string().uuid(), status: exportStatus }).meta({ id: "ExportStarted" });

export const exportResource = z
  .object({
    id: z.string().uuid(),
    status: exportStatus,
    format: z.enum(["csv", "ndjson"]),
    include_questions: z.boolean(),
    rows: count(1250, "Threads written so far; all of them once done"),
    created_at: z.string().datetime(),
    finished_at: z.string().datetime().nullable(),
    url: z
      .string()
      .nullable()
      .meta({ description: "Once done: a presigned download link, new on every request; null otherwise" }),
    expires_at: z.string().datetime().nullable().meta({ description: "When `url` stops working" }),
  })
  .meta({ id: "Export" });

export type ExportResource = z.infer<typeof exportResource>;
