import { type SQL, sql } from "drizzle-orm";

/**
 * Ids as one `uuid[]` parameter (a text literal cast in SQL): the statement is the same for any
 * number of ids, and no native array binding is needed (`fetch_types` is off, client.ts).
 */
export function uuidArray(ids: Iterable<string>): SQL {
  return sql`${`{${[...ids].join(",")}}`}::uuid[]`;
}
