import { ZodError } from "zod";
import { isConnectionError } from "../http/errors.js";

/**
 * The errors the backfill's Lambda tasks throw, by name: Step Functions matches a Retry or Catch
 * on the error's name (Lambda reports it as the errorType). The state machine retries
 * BackfillQueueError and BackfillDatabaseError with backoff; InvalidBackfillInput, and anything
 * unexpected (a bug), go straight to the Catch and fail the execution with the cause.
 */
export class BackfillError extends Error {
  override name = this.constructor.name;
}
/** SQS refused or could not take the thread ids (throttling, a network blip, the queue is gone). */
export class BackfillQueueError extends BackfillError {}
/** The database is restarting, failing over or out of reach. */
export class BackfillDatabaseError extends BackfillError {}
/** The execution input is not a backfill request. */
export class InvalidBackfillInput extends BackfillError {}

/** Error names the state machine retries (constructs/backfill.ts). */
export const RETRYABLE_BACKFILL_ERRORS = [BackfillQueueError.name, BackfillDatabaseError.name] as const;

/** Network errors, and Postgres's: too many connections, crash shutdown, cannot connect now, connection failures. */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "53300",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08006",
]);

function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (isConnectionError(e) || (typeof code === "string" && TRANSIENT_CODES.has(code))) return true;
  }
  return false;
}

/**
 * What went wrong, without the SQL and its parameters (thread ids) that a failed query's error
 * carries: the execution history keeps the cause, and it must not hold data.
 */
function describe(error: unknown): string {
  const query = error as { query?: unknown; cause?: unknown };
  const inner = typeof query.query === "string" && query.cause ? query.cause : error;
  const code = (inner as { code?: unknown }).code;
  const message = inner instanceof Error ? inner.message : String(inner);
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * Runs a task's work and gives its failure the name the state machine acts on. The message says
 * what failed, never which rows (no data in the execution history).
 */
export async function asBackfillTask<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackfillError) throw error;
    if (error instanceof ZodError) {
      const issues = error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
      throw new InvalidBackfillInput(`Invalid backfill input: ${issues}`);
    }
    if (isTransientDatabaseError(error)) {
      throw new BackfillDatabaseError(`Database unavailable: ${describe(error)}`, { cause: error });
    }
    if ((error as { query?: unknown }).query !== undefined) {
      throw Object.assign(new Error(`Database error: ${describe(error)}`), { name: "BackfillQueryError" });
    }
    throw error;
  }
}
