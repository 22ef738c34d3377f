import type { ExportFormat } from "../db/schema.js";
import type { QuestionAnswerResource, ThreadResource } from "../http/schemas.js";

/** A thread as an export writes it: the list's fields, plus its questions and answers when asked. */
export type ExportedThread = ThreadResource & { question_answers?: QuestionAnswerResource[] };

/** The CSV columns: the list's Thread, with its category flattened. */
const CSV_COLUMNS = [
  "id",
  "project",
  "created_at",
  "first_question",
  "total_questions",
  "category_id",
  "category_name",
  "category_source",
  "category_assigned_at",
  "category_confidence",
] as const;
/** With include_questions: the thread's questions and answers, a JSON array in one field. */
const QUESTIONS_COLUMN = "question_answers";

const NEEDS_QUOTES = /[",\r\n]/;
/** A text cell a spreadsheet would evaluate as a formula (OWASP, CSV Injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field: quoted when it holds a quote, comma or line break, quotes doubled. A text
 * starting like a formula gets a leading single quote and is quoted, as OWASP recommends, so a
 * spreadsheet shows it as text; numbers are ours and never need it.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  if (FORMULA_START.test(value)) return `"'${value.replaceAll('"', '""')}"`;
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvRecord(fields: readonly (string | number | null | undefined)[]): string {
  // RFC 4180: records end with CRLF (line breaks inside quoted fields are kept as they are).
  return `${fields.map(csvField).join(",")}\r\n`;
}

function csvRow(thread: ExportedThread, includeQuestions: boolean): string {
  const c = thread.category;
  const fields: (string | number | null)[] = [
    thread.id,
    thread.project,
    thread.created_at,
    thread.first_question,
    thread.total_questions,
    c?.id ?? null,
    c?.name ?? null,
    c?.source ?? null,
    c?.assigned_at ?? null,
    c?.confidence ?? null,
  ];
  // A JSON array starts with "[": never neutralised, so a program can parse it as it is.
  if (includeQuestions) fields.push(JSON.stringify(thread.question_answers ?? []));
  return csvRecord(fields);
}

/** How a file of one format begins, and how each thread is written. */
export interface ExportEncoder {
  contentType: string;
  extension: string;
  header(): string;
  /** Several threads at once: one string per page, fewer and larger writes. */
  rows(threads: readonly ExportedThread[]): string;
}

export function encoderFor(format: ExportFormat, includeQuestions: boolean): ExportEncoder {
  if (format === "csv") {
    return {
      contentType: "text/csv; charset=utf-8; header=present",
      extension: "csv",
      header: () => csvRecord(includeQuestions ? [...CSV_COLUMNS, QUESTIONS_COLUMN] : CSV_COLUMNS),
      rows: (threads) => threads.map((t) => csvRow(t, includeQuestions)).join(""),
    };
  }
  return {
    contentType: "application/x-ndjson; charset=utf-8",
    extension: "ndjson",
    header: () => "",
    // JSON.stringify escapes line breaks inside strings: one thread per line, always.
    rows: (threads) => threads.map((t) => `${JSON.stringify(t)}\n`).join(""),
  };
}
