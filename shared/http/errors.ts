import { classifyDbError } from "../db/errors.js";
import {
  ConflictError,
  DomainError,
  InvalidInputError,
  NotFoundError,
  named,
  TooManyRequestsError,
  UnavailableError,
} from "../platform/errors.js";
import { logger } from "../platform/logger.js";

/** The request is refused before any domain logic runs: its body is too large. */
export class PayloadTooLargeError extends named("PayloadTooLargeError", DomainError) {}
/** No API key reached the handler (the authorizer let the request through without one). */
export class UnauthenticatedError extends named("UnauthenticatedError", DomainError) {}
/** The key is not granted the path's project. */
export class ForbiddenError extends named("ForbiddenError", DomainError) {}

export interface ErrorReply {
  statusCode: number;
  body: { detail: string; errors?: ReadonlyArray<{ path: string; message: string }>; id?: string };
  headers?: Record<string, string>;
}

/**
 * The one place where domain errors become status codes. Any other error (a DomainError of a
 * pipeline, say ReportSendError, or a bug) is a 500 whose message stays in the log.
 */
const STATUS_BY_ERROR: ReadonlyArray<[new (...args: never[]) => DomainError, number]> = [
  [InvalidInputError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [TooManyRequestsError, 429],
  [UnavailableError, 503],
];

/**
 * Seconds a client is asked to wait before retrying a 503 (and the gateways' 429s): the database
 * reconnects within one; the client's retry policy decides the rest.
 */
export const RETRY_AFTER_SECONDS = 1;

export const UNAVAILABLE_DETAIL = "Service temporarily unavailable, please retry";

/**
 * The answer when the authorizer fails (it could not read the key, say the database is down):
 * 503 with Retry-After, never a 401/403 that would hide the outage. API Gateway's gateway
 * responses AUTHORIZER_FAILURE and AUTHORIZER_CONFIGURATION_ERROR (infra/constructs/api.ts) and
 * the local gateway use it.
 */
export const AUTHORIZER_FAILURE = { statusCode: 503, detail: "Could not check the API key, please retry" } as const;

const unavailable = (detail = UNAVAILABLE_DETAIL): ErrorReply => ({
  statusCode: 503,
  body: { detail },
  headers: retryAfterHeader(),
});

export function retryAfterHeader(): Record<string, string> {
  return { "retry-after": String(RETRY_AFTER_SECONDS) };
}

/** A database failure that is not a bug: its HTTP answer (4xx, or 503 to retry), else null. */
function databaseReply(error: unknown): ErrorReply | null {
  const db = classifyDbError(error);
  if (!db) return null;
  if (db.retryable) {
    logger.warn("database unavailable", { error });
    return unavailable();
  }
  switch (db.kind) {
    case "invalid-input":
      return { statusCode: 400, body: { detail: "A value in the request cannot be stored or compared" } };
    case "foreign-key":
    case "unique":
    case "constraint":
      // A concurrent change (a deleted category, project or thread) won the race.
      return { statusCode: 409, body: { detail: "The request conflicts with a concurrent change; reload and retry" } };
    default:
      return null;
  }
}

/** The reply to an error of the STATUS_BY_ERROR kinds, else null. */
function domainReply(error: unknown): ErrorReply | null {
  if (!(error instanceof DomainError)) return null;
  const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1];
  if (status === undefined) return null;
  const body: ErrorReply["body"] = { detail: error.message };
  if (error instanceof InvalidInputError && error.errors.length > 0) body.errors = error.errors;
  if (status === 503) return unavailable(error.message);
  if ((error instanceof ConflictError || error instanceof TooManyRequestsError) && error.id) body.id = error.id;
  if (error instanceof TooManyRequestsError) {
    return { statusCode: status, body, headers: { "retry-after": String(error.retryAfterSeconds) } };
  }
  return { statusCode: status, body };
}

export function errorReply(error: unknown): ErrorReply {
  const known = domainReply(error) ?? databaseReply(error);
  if (known) return known;
  logger.error("unhandled error", { error });
  return { statusCode: 500, body: { detail: "Internal server error" } };
}
