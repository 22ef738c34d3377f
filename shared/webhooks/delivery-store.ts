import { and, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { classifyDbError } from "../db/errors.js";
import { type WebhookEndpointRow, webhookAttempts, webhookEndpoints, webhookEvents } from "../db/webhook-schema.js";
import { type AttemptResult, DISABLE_AFTER_CONSECUTIVE_FAILURES } from "./model.js";

export interface ClaimedEvent {
  id: string;
  projectId: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export type AttemptOutcome = "succeeded" | "retrying" | "failed";

/** The database side of delivery: the outbox's claims, the endpoints, and the attempts' log. */
export class DeliveryStore {
  constructor(
    private readonly db: Db,
    private readonly disableAfter = DISABLE_AFTER_CONSECUTIVE_FAILURES,
  ) {}

  /**
   * Claims up to `limit` undispatched events, oldest first, for `leaseSeconds`: concurrent
   * dispatchers skip each other's claims, and a dispatcher that dies before marking them
   * dispatched leaves them to be claimed again when the lease ends (at least once).
   */
  async claimEvents(limit: number, leaseSeconds: number): Promise<ClaimedEvent[]> {
    const rows = await this.db.execute<{
      id: string;
      project_id: string;
      type: string;
      payload: Record<string, unknown> | string;
      created_at: string | Date;
    }>(sql`
      update webhook_events set claimed_until = now() + make_interval(secs => ${leaseSeconds})
      where id in (
        select id from webhook_events
        where dispatched_at is null and (claimed_until is null or claimed_until < now())
        order by created_at limit ${limit}
        for update skip locked)
      returning id, project_id, type, payload, created_at`);
    return rows.map((r) => ({
      id: r.id,
      projectId: r.project_id,
      type: r.type,
      payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as Record<string, unknown>) : r.payload,
      createdAt: new Date(r.created_at),
    }));
  }

  async markDispatched(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(webhookEvents)
      .set({ dispatchedAt: sql`now()` })
      .where(inArray(webhookEvents.id, [...ids]));
  }

  enabledEndpoints(projectIds: readonly string[]): Promise<WebhookEndpointRow[]> {
    if (projectIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.projectId, [...new Set(projectIds)]), eq(webhookEndpoints.enabled, true)));
  }

  /** One event of the outbox (a retry is made from it). */
  async event(id: string): Promise<ClaimedEvent | undefined> {
    const [row] = await this.db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
    return (
      row && { id: row.id, projectId: row.projectId, type: row.type, payload: row.payload, createdAt: row.createdAt }
    );
  }

  async endpoint(id: string): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    return row;
  }

  /**
   * Logs an attempt and updates the endpoint's count of consecutive failures (a success resets
   * it); the endpoint is disabled when the count reaches `disableAfter`. After a failure,
   * returns the endpoint as updated (for the retry), or undefined when it was deleted meanwhile
   * (nothing is logged then); after a success, undefined.
   */
  async recordAttempt(result: AttemptResult, outcome: AttemptOutcome): Promise<WebhookEndpointRow | undefined> {
    const { delivery } = result;
    const succeeded = outcome === "succeeded";
    return this.db.transaction(async (tx) => {
      try {
        await tx.insert(webhookAttempts).values({
          endpointId: delivery.endpointId,
          eventId: delivery.eventId,
          eventType: delivery.type,
          attempt: delivery.attempt,
          statusCode: result.statusCode,
          error: result.error,
          durationMs: result.durationMs,
          outcome,
          createdAt: new Date(result.at),
        });
      } catch (error) {
        if (classifyDbError(error)?.kind === "foreign-key") return undefined;
        throw error;
      }
      // A success on an endpoint without failures changes nothing: no update, no row lock (the
      // recorder's concurrent successes of one endpoint would otherwise queue on its row).
      if (succeeded) {
        await tx
          .update(webhookEndpoints)
          .set({ consecutiveFailures: 0 })
          .where(and(eq(webhookEndpoints.id, delivery.endpointId), gt(webhookEndpoints.consecutiveFailures, 0)));
        return undefined;
      }
      const failures = sql`${webhookEndpoints.consecutiveFailures} + 1`;
      const [row] = await tx
        .update(webhookEndpoints)
        .set({
          consecutiveFailures: failures,
          enabled: sql`${webhookEndpoints.enabled} and ${failures} < ${this.disableAfter}`,
          disabledReason: sql`case when ${webhookEndpoints.enabled} and ${failures} >= ${this.disableAfter}
            then ${`disabled after ${this.disableAfter} consecutive failed deliveries`}
            else ${webhookEndpoints.disabledReason} end`,
        })
        .where(eq(webhookEndpoints.id, delivery.endpointId))
        .returning();
      return row;
    });
  }
}
