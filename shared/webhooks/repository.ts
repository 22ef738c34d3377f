import { and, asc, count, desc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { lockProjectForCap } from "../db/project-lock.js";
import {
  type WebhookAttemptRow,
  type WebhookEndpointRow,
  type WebhookEventRow,
  webhookAttempts,
  webhookEndpoints,
  webhookEvents,
} from "../db/webhook-schema.js";
import { ConflictError, NotFoundError } from "../platform/errors.js";
import { MAX_ENDPOINTS_PER_PROJECT, PREVIOUS_SECRET_TTL_HOURS } from "./model.js";

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string;
}

export interface EndpointPatch {
  url?: string;
  events?: string[];
  description?: string;
  enabled?: boolean;
}

export const endpointNotFound = (id: string) => new NotFoundError(`Webhook ${id} not found`);

/** A project's webhook endpoints and their delivery log; every statement is scoped to the project. */
export class WebhookEndpointsRepository {
  constructor(private readonly db: Db) {}

  /** The project's row lock serializes creations, so the cap holds under concurrent requests. */
  create(projectId: string, input: EndpointInput, secret: string): Promise<WebhookEndpointRow> {
    return this.db.transaction(async (tx) => {
      await lockProjectForCap(tx, projectId);
      const [existing] = await tx
        .select({ n: count() })
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.projectId, projectId));
      if ((existing?.n ?? 0) >= MAX_ENDPOINTS_PER_PROJECT) {
        throw new ConflictError(`A project can have at most ${MAX_ENDPOINTS_PER_PROJECT} webhook endpoints`);
      }
      const [row] = await tx
        .insert(webhookEndpoints)
        .values({ projectId, url: input.url, events: input.events, description: input.description ?? "", secret })
        .returning();
      return row as WebhookEndpointRow;
    });
  }

  list(projectId: string): Promise<WebhookEndpointRow[]> {
    return this.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.projectId, projectId))
      .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
  }

  async get(projectId: string, id: string): Promise<WebhookEndpointRow> {
    const [row] = await this.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, projectId)));
    if (!row) throw endpointNotFound(id);
    return row;
  }

  /** Enabling (again) clears the failure count and the reason the service disabled it. */
  async update(projectId: string, id: string, patch: EndpointPatch): Promise<WebhookEndpointRow> {
    const reenable = patch.enabled === true ? { consecutiveFailures: 0, disabledReason: null } : {};
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({ ...patch, ...reenable, updatedAt: sql`now()` })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, projectId)))
      .returning();
    if (!row) throw endpointNotFound(id);
    return row;
  }

  async delete(projectId: string, id: string): Promise<void> {
    const rows = await this.db
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, projectId)))
      .returning({ id: webhookEndpoints.id });
    if (rows.length === 0) throw endpointNotFound(id);
  }

  /** The current secret becomes the previous one, signing too for PREVIOUS_SECRET_TTL_HOURS. */
  async rotate(projectId: string, id: string, secret: string): Promise<WebhookEndpointRow> {
    const [row] = await this.db
      .update(webhookEndpoints)
      .set({
        secret,
        previousSecret: sql`${webhookEndpoints.secret}`,
        previousSecretExpiresAt: sql`now() + make_interval(hours => ${PREVIOUS_SECRET_TTL_HOURS})`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, projectId)))
      .returning();
    if (!row) throw endpointNotFound(id);
    return row;
  }

  /** Attempts newest first, `limit` of them after the cursor (an attempt id). */
  attempts(endpointId: string, limit: number, before?: number): Promise<WebhookAttemptRow[]> {
    const conditions = [eq(webhookAttempts.endpointId, endpointId)];
    if (before !== undefined) conditions.push(lt(webhookAttempts.id, before));
    return this.db
      .select()
      .from(webhookAttempts)
      .where(and(...conditions))
      .orderBy(desc(webhookAttempts.id))
      .limit(limit);
  }

  /** One of the project's events, if the endpoint is the project's too. */
  async event(projectId: string, eventId: string): Promise<WebhookEventRow | undefined> {
    const [row] = await this.db
      .select()
      .from(webhookEvents)
      .where(and(eq(webhookEvents.id, eventId), eq(webhookEvents.projectId, projectId)));
    return row;
  }
}

/** The secrets that sign a delivery now: the current one, and the previous one within its 24 h. */
export function activeSecrets(row: WebhookEndpointRow, now = new Date()): string[] {
  const previous =
    row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now ? [row.previousSecret] : [];
  return [row.secret, ...previous];
}
