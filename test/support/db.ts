import { afterAll, inject } from "vitest";
import { connect, type Db } from "../../shared/db/client.js";
import { UNBOUNDED_STATEMENTS } from "../../shared/db/deadline.js";

export { createTenant, type Tenant } from "./tenant.js";

/**
 * A connection to the run's test database, closed after the file. Tests seed tens of thousands of
 * rows in one statement: no API statement timeout (the code under test keeps its own).
 */
export function useTestDb(): Db {
  const database = connect({ ...inject("database"), max: 4, timeouts: UNBOUNDED_STATEMENTS });
  afterAll(() => database.close());
  return database.db;
}
