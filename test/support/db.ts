import { afterAll, inject } from "vitest";
import { connect, type Db } from "../../shared/db/client.js";

export { createTenant, type Tenant } from "./tenant.js";

/** A connection to the run's test database, closed after the file. */
export function useTestDb(): Db {
  const database = connect({ ...inject("database"), max: 4 });
  afterAll(() => database.close());
  return database.db;
}
