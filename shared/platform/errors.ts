/**
 * The service's one error family. Every error the code throws on purpose is a DomainError:
 * what went wrong in the service's own terms. The HTTP layer (shared/http/errors.ts) maps the
 * kinds below to status codes; the backfill's tasks (shared/backfill/errors.ts), the report
 * sender and the classifier add their own subclasses. Database failures are not wrapped here:
 * shared/db/errors.ts classifies them (classifyDbError) wherever they are caught.
 *
 * Each class names itself with a string literal, not `this.constructor.name`: the Lambda
 * bundles are minified, which renames classes, and Step Functions matches a Retry or Catch on
 * the error's name. `named` gives a class that literal in one line.
 */
// biome-ignore lint/suspicious/noExplicitAny: a mixin's base must be typed `new (...args: any[])` (TS2545).
type ErrorClass = new (...args: any[]) => Error;

/** `Base` with instances named `name` (a literal: it survives minification). */
export function named<B extends ErrorClass>(name: string, Base: B) {
  return class extends Base {
    override name = name;
  };
}

export class DomainError extends named("DomainError", Error) {}

export class NotFoundError extends named("NotFoundError", DomainError) {}
export class ConflictError extends named("ConflictError", DomainError) {
  constructor(
    message: string,
    /** The resource in the way (the running job), shown to the client as `id`. */
    readonly id?: string,
  ) {
    super(message);
  }
}
export class InvalidInputError extends named("InvalidInputError", DomainError) {
  constructor(
    message: string,
    readonly errors: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}
/** The caller already has as much in progress as it may: it may retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends named("TooManyRequestsError", DomainError) {
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
export class UnavailableError extends named("UnavailableError", DomainError) {}
