import { once } from "node:events";
import { SingleBar } from "cli-progress";
import { eq } from "drizzle-orm";
import type { Db } from "../shared/db/client.js";
import { projects } from "../shared/db/schema.js";
import { DEFAULT_EXPORT_PAGE_SIZE } from "../shared/exports/config.js";
import { ExportsRepository } from "../shared/exports/repository.js";
import { type ExportSink, writeExport } from "../shared/exports/stream.js";
import { createExportRequest } from "../shared/http/export-schemas.js";
import { InvalidInputError, NotFoundError } from "../shared/platform/errors.js";
import { ThreadsRepository } from "../shared/threads/repository.js";

/** `kapa export`'s options, as the API's POST exports/ body takes them (validated by the same schema). */
export interface ExportCommandArgs {
  project: string;
  format: string;
  includeQuestions?: boolean;
  category?: string;
  source?: string;
  createdAfter?: string;
  createdBefore?: string;
  /** Threads per keyset page. @default DEFAULT_EXPORT_PAGE_SIZE */
  pageSize?: number;
}

export interface ExportCommandIo {
  /** Where the file goes (stdout). */
  out: NodeJS.WritableStream;
  /** Where the progress bar goes (stderr); drawn only when it is a terminal. */
  progress: NodeJS.WritableStream & { isTTY?: boolean };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Bytes to a stream, waiting for it to drain when its buffer is full (constant memory). */
function streamSink(out: NodeJS.WritableStream): ExportSink {
  return {
    async write(text) {
      if (!out.write(text, "utf8")) await once(out, "drain");
    },
    async finish() {},
    async abort() {},
  };
}

/**
 * `npx kapa export --project ID --format csv|ndjson [--include-questions] [--category ...]
 * [--source ...] [--created-after ...] [--created-before ...] > file`: the file the API's export
 * would write, streamed from the database straight to `io.out` (no S3, no queue: an operator's
 * tool), keyset page by keyset page, with a progress bar on `io.progress`. Returns the threads
 * written.
 */
export async function exportCommand(db: Db, args: ExportCommandArgs, io: ExportCommandIo): Promise<{ rows: number }> {
  const parsed = createExportRequest.safeParse({
    format: args.format,
    include_questions: args.includeQuestions ?? false,
    category: args.category,
    source: args.source,
    created_after: args.createdAfter,
    created_before: args.createdBefore,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`--${String(issue?.path[0] ?? "format").replaceAll("_", "-")}: ${issue?.message}`);
  }
  if (!UUID.test(args.project)) throw new InvalidInputError(`--project must be a UUID, got ${args.project}`);
  const [project] = await db.select({ id: projects.id }).from(projects).where(eq(projects.id, args.project));
  if (!project) throw new NotFoundError(`Project ${args.project} not found`);
  const body = parsed.data;
  const filters = {
    category: body.category,
    source: body.source,
    createdAfter: body.created_after,
    createdBefore: body.created_before,
  };
  const threads = new ThreadsRepository(db);
  const total = await threads.count(args.project, filters);
  const bar = new SingleBar({
    stream: io.progress,
    format: "export [{bar}] {percentage}% | {value}/{total} threads | {eta_formatted} left",
    etaBuffer: 20,
  });
  bar.start(total, 0);
  try {
    const rows = await writeExport(
      { threads, exports: new ExportsRepository(db) },
      {
        projectId: args.project,
        format: body.format,
        includeQuestions: body.include_questions,
        filters,
        pageSize: args.pageSize ?? DEFAULT_EXPORT_PAGE_SIZE,
      },
      streamSink(io.out),
      (done) => {
        if (done > bar.getTotal()) bar.setTotal(done); // threads arrived since the count
        bar.update(done);
      },
    );
    return { rows };
  } finally {
    bar.stop();
  }
}
