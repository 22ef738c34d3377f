import { AsyncLocalStorage } from "node:async_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { loggableError } from "./log-errors.js";

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

/**
 * A Lambda handler whose JSON log lines carry the invocation's context, as Powertools'
 * `injectLambdaContext` adds it: cold_start, function_name, function_arn, function_memory_size,
 * function_request_id. Every handler goes through it (httpHandler does for the API routes). The
 * local runtimes pass a context too; called without one (a test), it adds nothing.
 */
export function withLambdaContext<E, R>(
  handler: (event: E, context?: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return (event, context) => {
    if (context) powertools.addContext(context);
    return handler(event, context);
  };
}

const context = new AsyncLocalStorage<{ correlationId: string }>();

/** Runs `fn` with this correlation id on every log line it writes (and on the messages it sends). */
export function withCorrelationId<T>(correlationId: string, fn: () => T): T {
  return context.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return context.getStore()?.correlationId;
}

/** Errors become what log-errors.ts lets a log line say (never a statement's values); the rest passes through. */
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

/**
 * `json` (the default, and always in Lambda): Powertools' structured lines, and EMF metrics.
 * `pretty` (what `npm start` sets unless LOG_FORMAT=json): one readable line per log call, no EMF.
 */
export function logFormat(): "json" | "pretty" {
  return process.env.LOG_FORMAT === "pretty" ? "pretty" : "json";
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** Whether a line of this level is written under LOG_LEVEL. */
export function logs(level: Exclude<Level, "silent">): boolean {
  return ORDER[level] >= (ORDER[(process.env.LOG_LEVEL as Level) ?? "info"] ?? ORDER.info);
}

function pretty(level: Exclude<Level, "silent">, message: string, fields?: Record<string, unknown>): void {
  if (!logs(level)) return;
  const extra = Object.entries(fieldsOf(fields))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  const time = new Date().toISOString().slice(11, 23);
  process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? `  ${extra}` : ""}\n`);
}

const write =
  (level: Exclude<Level, "silent">): LogFn =>
  (message, fields) => {
    if (logFormat() === "pretty") pretty(level, message, fields);
    else current()[level](message, fieldsOf(fields));
  };

export const logger: Record<"debug" | "info" | "warn" | "error", LogFn> = {
  debug: write("debug"),
  info: write("info"),
  warn: write("warn"),
  error: write("error"),
};
