import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { uuidArray } from "../db/uuid-array.js";

/**
 * How much later the sweeper may re-send a thread sent to the backfill queue than one sent to the
 * live queue. The backfill queue is long by design (a deleted category, the sweeper's backlog, at
 * the backfill's capped rate), so such a thread is usually still waiting there after the live
 * grace period; re-sending it would queue, and pay for, its classification twice. A thread lost
 * from the backfill queue (dead-lettered) is sent again a day later instead of minutes.
 */
export const BACKLOG_RESEND_DELAY_SECONDS = 86_400;

/**
 * `threads.classification_requested_at` is when the sweeper's grace period starts: now for a send
 * to the live queue, BACKLOG_RESEND_DELAY_SECONDS ahead for a send to the backfill queue (no new
 * column, so the sweeper's indexes and query stay as they are).
 */
export const requestedAt = (queue: "live" | "backfill"): SQL =>
  queue === "live" ? sql`now()` : sql.raw(`now() + interval '${BACKLOG_RESEND_DELAY_SECONDS} seconds'`);

/**
 * Marks still unlabelled threads as just sent to the live or the backfill queue. A row another
 * transaction holds is skipped, not waited for: that is the classifier writing its label (the
 * relabelling marks a batch after sending it, and the classifier takes a message at once), and
 * a thread being labelled needs no mark; should that write leave it unlabelled, the sweeper sends
 * it again after the grace period.
 */
export async function markRequested(db: Db, threadIds: readonly string[], queue: "live" | "backfill"): Promise<void> {
  if (threadIds.length === 0) return;
  await db.execute(sql`
    update threads set classification_requested_at = ${requestedAt(queue)}
    where id in (
      select id from threads where id = any(${uuidArray(threadIds)}) and category_id is null
      for update skip locked
    )`);
}
