import { ZodError } from "zod";
import { classifyDbError, type DbError } from "../db/errors.js";
import { DomainError, named } from "../platform/errors.js";

/**
 * The errors the backfill's Lambda tasks throw, by name: Step Functions matches a Retry or Catch
 * on the error's name (Lambda reports it as the errorType). The state machine retries
 * BackfillQueueError and BackfillDatabaseError with backoff; InvalidBackfillInput, and anything
 * unexpected (a bug), go straight to the Catch and fail the execution with the cause.
 */
export class BackfillError extends named("BackfillError", DomainError) {}
/** SQS refused or could not take the thread ids (throttling, a network blip, the queue is gone). */
export class BackfillQueueError extends named("BackfillQueueError", BackfillError) {}
/** The database is restarting, failing over or out of reach. */
export class BackfillDatabaseError extends named("BackfillDatabaseError", BackfillError) {}
/** A query failed in a way a retry does not fix (a bug, a missing relation): not retried. */
export class BackfillQueryError extends named("BackfillQueryError", BackfillError) {}
/** The execution input is not a backfill request. */
export class InvalidBackfillInput extends named("InvalidBackfillInput", BackfillError) {}

/** Error names the state machine retries (constructs/backfill.ts). */
export const RETRYABLE_BACKFILL_ERRORS = ["BackfillQueueError", "BackfillDatabaseError"] as const;

/**
 * What went wrong, without the SQL parameters (thread ids) or values that a failed query's error
 * carries: the execution history keeps the cause, and it must not hold data.
 */
function describe(db: DbError): string {
  const where = [db.address && `at ${db.address}`, db.statement && `in ${db.statement}`].filter(Boolean).join(" ");
  return `${db.kind} (${db.code}${where ? ` ${where}` : ""})`;
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
    const db = classifyDbError(error);
    if (db?.retryable) {
      throw new BackfillDatabaseError(`Database unavailable: ${describe(db)}`, { cause: error });
    }
    if (db) throw new BackfillQueryError(`Database error: ${describe(db)}`);
    throw error;
  }
}
