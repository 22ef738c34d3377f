/**
 * The service's one error family. Every error the code throws on purpose is a DomainError:
 * what went wrong in the service's own terms. The HTTP layer (shared/http/errors.ts) maps the
 * kinds below to status codes; the backfill's tasks (shared/backfill/errors.ts), the report
 * sender and the classifier add their own subclasses. Database failures are not wrapped here:
 * shared/db/errors.ts classifies them (classifyDbError) wherever they are caught.
 *
 * Each class names itself with a string literal, not `this.constructor.name`: the Lambda
 * bundles are minified, which renames classes, and Step Functions matches a Retry or Catch on
 * the error's name.
 */
export class DomainError extends Error {
  override name = "DomainError";
}
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
}
export class ConflictError extends DomainError {
  override name = "ConflictError";
  constructor(
    message: string,
    /** The resource in the way (the running job), shown to the client as `id`. */
    readonly id?: string,
  ) {
    super(message);
  }
}
export class InvalidInputError extends DomainError {
  override name = "InvalidInputError";
  constructor(
    message: string,
    readonly errors: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}
/** The caller already has as much in progress as it may: it may retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends DomainError {
  override name = "TooManyRequestsError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    /** The resource in the way (an unfinished job), shown to the client as `id`. */
    readonly id?: string,
  ) {
    super(message);
  }
}
/** A dependency we do not own (database, queue) is unreachable right now; the client may retry. */
export class UnavailableError extends DomainError {
  override name = "UnavailableError";
}
