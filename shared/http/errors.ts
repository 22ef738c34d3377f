import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  UnavailableError,
} from "../errors.js";
import { logger } from "../logger.js";

export interface ErrorReply {
  statusCode: number;
  body: { detail: string; errors?: ReadonlyArray<{ path: string; message: string }>; id?: string };
}

/** The one place where domain errors become status codes. */
const STATUS_BY_ERROR: ReadonlyArray<[new (...args: never[]) => DomainError, number]> = [
  [InvalidInputError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnavailableError, 503],
];

/** postgres-js connection failures: the database is restarting or out of reach. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    (code.startsWith("CONNECT") || code === "CONNECTION_CLOSED" || code === "ECONNREFUSED" || code === "57P01")
  );
}

export function errorReply(error: unknown): ErrorReply {
  if (error instanceof DomainError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 500;
    const body: ErrorReply["body"] = { detail: error.message };
    if (error instanceof InvalidInputError && error.errors.length > 0) body.errors = error.errors;
    if (error instanceof ConflictError && error.id) body.id = error.id;
    return { statusCode: status, body };
  }
  if (isConnectionError(error)) {
    logger.error("database unavailable", { error });
    return { statusCode: 503, body: { detail: "Service temporarily unavailable, please retry" } };
  }
  logger.error("unhandled error", { error });
  return { statusCode: 500, body: { detail: "Internal server error" } };
}
