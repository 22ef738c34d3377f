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

const categoryRef = (alias: string) =>
  sql.raw(
    `case when ${alias}.id is null then null else jsonb_build_object('id', ${alias}.id, 'name', ${alias}.name) end`,
  );

/** now() as the ISO 8601 text of the events' timestamps. */
export const isoNow = sql.raw(`to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Inserts a `thread.labelled` event for each row of the CTE named `changed` whose label changed
 * (category or source). `changed` must have the columns `id` (thread), `project_id`,
 * `category_id`, `source` (classifier | user | system), `confidence` (null but for the
 * classifier), `previous_category_id` and
 * `previous_source`. Use it as a further CTE after the UPDATE that labels:
 *
 *     with changed as (update threads ... returning ...), label_events as (${labelEventsFrom()}) select ...
 *
 * The categories are read in the same statement (a category being deleted is still there).
 */
export function labelEventsFrom(changed = "changed"): SQL {
  return sql`insert into webhook_events (project_id, type, payload)
    select c.project_id, 'thread.labelled', jsonb_build_object(
      'thread_id', c.id,
      'category', ${categoryRef("nc")},
      'previous_category', ${categoryRef("pc")},
      'source', c.source,
      'confidence', c.confidence,
      'labelled_at', ${isoNow})
    from ${sql.raw(changed)} c
    left join categories nc on nc.id = c.category_id
    left join categories pc on pc.id = c.previous_category_id
    where (c.category_id is distinct from c.previous_category_id or c.source is distinct from c.previous_source)
      and ${subscribedTo(sql`c.project_id`, "thread.labelled")}`;
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
