import { describeErrorsWith, errorChain, framesOf } from "../platform/log-errors.js";

/**
 * Every database failure, classified once from the error or its causes (drizzle wraps the
 * driver's error and keeps it in `cause`). The HTTP mapping, the backfill, the classifier, the
 * log lines (through log-errors.ts) and the local runtime's startup all read this one classification.
 *
 * - `unavailable`: the database is out of reach, restarting, refusing or out of connections;
 *   retry later (HTTP 503 with Retry-After).
 * - `timeout`: the statement or the wait for a connection took longer than the deadline
 *   (statement_timeout, the client's deadline, the connect timeout); retry later (503).
 * - `transient`: a serialization failure or deadlock; retrying the request succeeds (503).
 * - `unique` / `foreign-key` / `constraint`: the data changed underneath the request (4xx).
 * - `invalid-input`: a value Postgres cannot store or compare (a data exception, class 22; 400).
 * - `other`: a bug (500).
 */
export type DbErrorKind =
  | "unavailable"
  | "timeout"
  | "transient"
  | "unique"
  | "foreign-key"
  | "constraint"
  | "invalid-input"
  | "other";

export interface DbError {
  kind: DbErrorKind;
  /** Whether the same request may succeed if retried later (the 503 kinds). */
  retryable: boolean;
  /** The SQLSTATE, or the driver's or the socket's code (ECONNREFUSED, CONNECT_TIMEOUT...). */
  code: string;
  /** "select threads", "insert question_answers": what ran, never its parameters. */
  statement?: string;
  /** The constraint a violation names (threads_project_id_projects_id_fk). */
  constraint?: string;
  /** host:port of the database, when the failure is about reaching it. */
  address?: string;
}

/** Socket errors: the network path to the database. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
/** postgres.js's own connection errors (CONNECT_TIMEOUT is a timeout, below). */
const DRIVER_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED"]);
/** Our client's deadline for a query that got no answer (shared/db/deadline.ts). */
export const QUERY_DEADLINE_CODE = "QUERY_DEADLINE";

/**
 * SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) by class or code:
 * 08 connection exception, 53 insufficient resources (53300 too many connections), 57P01..57P03
 * shutdown / cannot connect now (starting up), 57014 query canceled (statement_timeout),
 * 25P03 idle-in-transaction timeout, 40001/40P01 serialization failure / deadlock, 23 integrity
 * constraint violations, 22 data exceptions.
 */
function kindOfSqlState(state: string): DbErrorKind {
  if (state === "57014" || state === "25P03" || state === "55P03") return "timeout";
  if (state.startsWith("08") || state.startsWith("53") || /^57P0[1-4]$/.test(state)) return "unavailable";
  if (state === "40001" || state === "40P01") return "transient";
  if (state === "23505") return "unique";
  if (state === "23503") return "foreign-key";
  if (state.startsWith("23")) return "constraint";
  if (state.startsWith("22")) return "invalid-input";
  return "other";
}

function kindOfCode(code: string): DbErrorKind | null {
  if (code === "CONNECT_TIMEOUT" || code === QUERY_DEADLINE_CODE) return "timeout";
  if (NETWORK_CODES.has(code) || DRIVER_CODES.has(code)) return "unavailable";
  if (/^[0-9A-Z]{5}$/.test(code)) return kindOfSqlState(code);
  return null;
}

interface ErrorFields {
  code?: unknown;
  query?: unknown;
  constraint_name?: unknown;
  address?: unknown;
  port?: unknown;
}

const chain = (error: unknown) => errorChain(error) as ErrorFields[];

/** Verb and first table of a statement: "insert question_answers", "with threads", "begin". */
export function statementName(sql: string): string {
  const text = sql.replace(/\s+/g, " ").trim();
  const verb = (/^(\w+)/.exec(text)?.[1] ?? "statement").toLowerCase();
  const table = /\b(?:from|into|update|join|table)\s+"?(\w+)"?/i.exec(text)?.[1];
  return table ? `${verb} ${table}` : verb;
}

/** The classification of a database failure, or null when the error is not one. */
export function classifyDbError(error: unknown): DbError | null {
  const links = chain(error);
  const statement = links.map((e) => e.query).find((q): q is string => typeof q === "string");
  for (const e of links) {
    if (typeof e.code !== "string") continue;
    const kind = kindOfCode(e.code);
    if (!kind) continue;
    const found: DbError = {
      kind,
      retryable: kind === "unavailable" || kind === "timeout" || kind === "transient",
      code: e.code,
    };
    if (statement) found.statement = statementName(statement);
    if (typeof e.constraint_name === "string") found.constraint = e.constraint_name;
    if (typeof e.address === "string") found.address = `${e.address}${e.port ? `:${e.port}` : ""}`;
    return found;
  }
  return null;
}

/**
 * A failed statement of no known kind (a driver's own error, say postgres.js's UNDEFINED_VALUE, or
 * a value it could not serialize): kind `other`, with the code of the chain, else the innermost
 * error's class, and the statement's name.
 */
function unclassifiedStatement(error: unknown): DbError | null {
  const links = chain(error);
  const statement = links.map((e) => e.query).find((q): q is string => typeof q === "string");
  if (!statement) return null;
  const names = errorChain(error).map((e) => e.name);
  const innermost = names.findLast((n): n is string => typeof n === "string") ?? "Error";
  const code = links.map((e) => e.code).find((c): c is string => typeof c === "string") ?? innermost;
  return { kind: "other", retryable: false, code, statement: statementName(statement) };
}

/**
 * A database error in a log line: its class, code and statement name, never its message (which
 * can quote the statement's parameters, users' questions, or a value that failed to parse).
 */
export function loggableDbError(error: Error): Record<string, unknown> | null {
  const db = classifyDbError(error) ?? unclassifiedStatement(error);
  return db ? { name: error.name, database: db, stack: framesOf(error.stack) } : null;
}

describeErrorsWith(loggableDbError);

/**
 * Runs a transaction again when Postgres aborted it as a deadlock or serialization failure: the
 * whole transaction rolled back, so running it again is safe, and it is what the Postgres manual
 * advises ("applications ... should be prepared to retry transactions that fail"):
 * https://www.postgresql.org/docs/15/mvcc-serialization-failure-handling.html
 * After `attempts` tries the error goes up (a 503 to the client).
 */
export async function retryTransient<T>(transaction: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= attempts || classifyDbError(error)?.kind !== "transient") throw error;
    }
  }
}

/**
 * A login the database refused: too many connections (53300), the server starting up (57P03).
 * The statement waiting for the connection was never sent, and the server is there and about to
 * take it. Not ECONNREFUSED: nothing listening is an outage, answered with a fast 503 (retrying
 * it in both the authorizer and the handler took a request past 3 s under `npm start`).
 */
const REFUSED_CONNECTION_CODES = new Set(["53300", "57P03"]);

export const isRefusedConnection = (error: unknown): boolean => {
  const code = classifyDbError(error)?.code;
  return code !== undefined && REFUSED_CONNECTION_CODES.has(code);
};

/** Pauses between the attempts of retryRefusedConnection (ms): 0.85 s in all, then the 503. */
const REFUSED_CONNECTION_PAUSES_MS = [100, 250, 500] as const;

/**
 * Runs `work` again when the database refused to open a connection for it, a few times within a
 * second: a database that has just recovered (its connection slots free again, its startup over)
 * then answers the request that arrived at that moment instead of a 503. Safe for a request's
 * whole work because a refused login means its statement did not run, and a Lambda serves one
 * request at a time on an open connection: a refusal comes with the request's first statement.
 */
export async function retryRefusedConnection<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const pauseMs = REFUSED_CONNECTION_PAUSES_MS[attempt];
      if (pauseMs === undefined || !isRefusedConnection(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
