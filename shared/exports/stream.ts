import type { ExportFormat } from "../db/schema.js";
import { toThreadResource } from "../http/response-mappers.js";
import type { PagePosition, ThreadFilters, ThreadView } from "../threads/model.js";
import type { ThreadsStore } from "../threads/repository.js";
import { type ExportedThread, encoderFor } from "./format.js";
import type { ExportsStore } from "./repository.js";

/** Threads encoded into one string (tens of KiB: below V8's large-object size). */
const ROWS_PER_WRITE = 100;

/** Where an export's bytes go: an S3 multipart upload (the worker) or stdout (`kapa export`). */
export interface ExportSink {
  /** UTF-8 text; resolves when the sink can take more (backpressure). */
  write(text: string): Promise<void>;
  finish(): Promise<void>;
  /** Drops what was written (a failed export leaves nothing behind). */
  abort(): Promise<void>;
}

export interface ExportSpec {
  projectId: string;
  format: ExportFormat;
  includeQuestions: boolean;
  filters: ThreadFilters;
  pageSize: number;
}

export interface ExportSource {
  threads: ThreadsStore;
  exports: ExportsStore;
}

/**
 * The project's threads in the list's order (newest first), one keyset page at a time: the next
 * page is read while the caller writes this one, so the database and the sink work side by side.
 * Memory holds two pages, whatever the number of threads.
 */
export async function* threadPages(
  threads: ThreadsStore,
  spec: Pick<ExportSpec, "projectId" | "filters" | "pageSize">,
): AsyncGenerator<ThreadView[]> {
  const read = (position: PagePosition) => threads.listPage(spec.projectId, spec.filters, spec.pageSize, position);
  let next = read({ kind: "offset", offset: 0 });
  for (;;) {
    const page = await next;
    const last = page.rows.at(-1);
    const more = page.hasMore && last !== undefined;
    if (more) {
      next = read({ kind: "cursor", cursor: { direction: "next", createdAt: last.createdAt, id: last.id } });
      // Read ahead; if the consumer stops early, its failure must not go unhandled.
      next.catch(() => {});
    }
    yield page.rows;
    if (!more) return;
  }
}

async function withQuestions(exports: ExportsStore, rows: ThreadView[]): Promise<ExportedThread[]> {
  const answers = await exports.questionAnswers(rows.map((r) => r.id));
  return rows.map((row) => ({
    ...toThreadResource(row),
    question_answers: (answers.get(row.id) ?? []).map((qa) => ({
      id: qa.id,
      question: qa.question,
      answer: qa.answer,
      created_at: qa.createdAt.toISOString(),
    })),
  }));
}

/**
 * Writes the export's file into the sink: the header, then every page of threads encoded in one
 * piece. Returns the number of threads written; `onProgress` hears the running count after each
 * page. The sink is finished on success and aborted on failure.
 */
export async function writeExport(
  source: ExportSource,
  spec: ExportSpec,
  sink: ExportSink,
  onProgress: (rows: number) => Promise<void> | void = () => {},
): Promise<number> {
  const encoder = encoderFor(spec.format, spec.includeQuestions);
  let rows = 0;
  try {
    const header = encoder.header();
    if (header) await sink.write(header);
    for await (const page of threadPages(source.threads, spec)) {
      if (page.length === 0) continue;
      const threads = spec.includeQuestions ? await withQuestions(source.exports, page) : page.map(toThreadResource);
      // A few rows per string: small strings die young in V8's nursery, where a page-sized one
      // would be allocated in the old generation and pile up there until a full collection.
      for (let i = 0; i < threads.length; i += ROWS_PER_WRITE) {
        await sink.write(encoder.rows(threads.slice(i, i + ROWS_PER_WRITE)));
      }
      rows += page.length;
      await onProgress(rows);
    }
    await sink.finish();
    return rows;
  } catch (error) {
    await sink.abort().catch(() => {});
    throw error;
  }
}
