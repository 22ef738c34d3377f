import { AsyncLocalStorage } from "node:async_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { loggableError } from "./db/errors.js";

/**
 * Structured JSON logs through Powertools Logger, with the request's correlation id on every
 * line: set once at the edge (the API request id, or the id a queue message carries) and kept in
 * an AsyncLocalStorage, so concurrent requests in one process (the local runtime) never mix.
 */
const levels = { debug: "DEBUG", info: "INFO", warn: "WARN", error: "ERROR", silent: "SILENT" } as const;
type Level = keyof typeof levels;

const levelOf = () => levels[(process.env.LOG_LEVEL as Level) ?? "info"] ?? "INFO";

const powertools = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "kapa-service",
  logLevel: levelOf(),
});
let appliedLevel = levelOf();

/** LOG_LEVEL may be set after this module loads (tests, the local runtime): follow it. */
function current(): Logger {
  const wanted = levelOf();
  if (wanted !== appliedLevel) {
    powertools.setLogLevel(wanted);
    appliedLevel = wanted;
  }
  return powertools;
}

const context = new AsyncLocalStorage<{ correlationId: string }>();

/** Runs `fn` with this correlation id on every log line it writes (and on the messages it sends). */
export function withCorrelationId<T>(correlationId: string, fn: () => T): T {
  return context.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return context.getStore()?.correlationId;
}

/** Errors become {name, message, stack} (a database error: its class, SQLSTATE and statement, no values); the rest passes through. */
function fieldsOf(fields: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? loggableError(value) : value;
  }
  const correlationId = currentCorrelationId();
  if (correlationId) out.correlation_id = correlationId;
  return out;
}

type LogFn = (message: string, fields?: Record<string, unknown>) => void;

export const logger: Record<"debug" | "info" | "warn" | "error", LogFn> = {
  debug: (message, fields) => current().debug(message, fieldsOf(fields)),
  info: (message, fields) => current().info(message, fieldsOf(fields)),
  warn: (message, fields) => current().warn(message, fieldsOf(fields)),
  error: (message, fields) => current().error(message, fieldsOf(fields)),
};
