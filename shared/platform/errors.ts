/** Domain errors: what went wrong in the service's own terms. shared/http/errors.ts maps them to status codes. */
export class DomainError extends Error {
  override name = this.constructor.name;
}
export class NotFoundError extends DomainError {}
export class ConflictError extends DomainError {
  constructor(
    message: string,
    /** The resource in the way (the running job), shown to the client as `id`. */
    readonly id?: string,
  ) {
    super(message);
  }
}
export class InvalidInputError extends DomainError {
  constructor(
    message: string,
    readonly errors: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}
export class PayloadTooLargeError extends DomainError {}
export class UnauthenticatedError extends DomainError {}
export class ForbiddenError extends DomainError {}
/** A dependency we do not own (database, queue) is unreachable right now; the client may retry. */
export class UnavailableError extends DomainError {}
