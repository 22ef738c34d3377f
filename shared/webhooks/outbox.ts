import { type SQL, sql } from "drizzle-orm";
import type { WebhookEventType } from "./model.js";

/**
 * The outbox's writes, as SQL fragments that run inside the statement or transaction of the
 * change they describe: the change and its event commit or roll back together.
 *
 * An event is written only when its project has an enabled endpoint subscribed to its type (one
 * index probe on webhook_endpoints per changed row): projects without webhooks pay no write, and
 * an endpoint receives the events from its creation on.
 */

/** The project has an enabled endpoint subscribed to `type`. */
export function subscribedTo(projectId: SQL, type: WebhookEventType): SQL {
  return sql`exists (select 1 from webhook_endpoints e
    where e.project_id = ${projectId} and e.enabled and ${type}::text = any(e.events))`;
}

const categoryRef = (id: string, name: string) =>
  sql.raw(`case when ${id} is null then null else jsonb_build_object('id', ${id}, 'name', ${name}) end`);

/** A timestamp as the ISO 8601 text of the events' timestamps. */
const isoTime = (at: string) => sql.raw(`to_char(${at} at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Inserts a `thread.labelled` event for each label history row of the CTE named `history` (rows
 * of thread_label_changes, as `recordLabelChanges` in shared/threads/label-history.ts returns
 * them): the event's data is the history entry. `previous_category` and `labelled_at` are the
 * entry's `previous` and `at`, under the names the event had before the history existed.
 */
export function labelEventsFrom(history: string): SQL {
  return sql`insert into webhook_events (project_id, type, payload)
    select h.project_id, 'thread.labelled', jsonb_build_object(
      'thread_id', h.thread_id,
      'category', ${categoryRef("h.category_id", "h.category_name")},
      'previous_category', ${categoryRef("h.previous_category_id", "h.previous_category_name")},
      'source', h.source,
      'actor', h.actor,
      'confidence', h.confidence,
      'rationale', h.rationale,
      'labelled_at', ${isoTime("h.at")})
    from ${sql.raw(history)} h
    where ${subscribedTo(sql`h.project_id`, "thread.labelled")}`;
}

export interface CategoryEventFields {
  id: string;
  name: string;
  description: string;
}

/** A category.created/updated/deleted event, to run in the transaction of the change. */
export function categoryEvent(
  type: Extract<WebhookEventType, `category.${string}`>,
  projectId: string,
  category: CategoryEventFields,
): SQL {
  const data = JSON.stringify({
    category: { id: category.id, name: category.name, description: category.description },
  });
  return sql`insert into webhook_events (project_id, type, payload)
    select ${projectId}::uuid, ${type}, ${data}::jsonb
    where ${subscribedTo(sql`${projectId}::uuid`, type)}`;
}
