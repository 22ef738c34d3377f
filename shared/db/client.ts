import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { API_TIMEOUTS, type DbTimeouts, reconnectBackoff, watchSockets, withQueryDeadline } from "./deadline.js";
import * as schema from "./schema.js";

export type Db = PostgresJsDatabase<typeof schema>;
/** A transaction handle or the database itself: repositories accept either. */
export type DbOrTx = Db | Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface DatabaseTarget {
  url: string;
  /**
   * The embedded PGlite behind a local socket: one Postgres session shared by every client, so
   * named prepared statements from two processes could collide. Unnamed statements only.
   */
  embedded?: boolean;
  /**
   * Through RDS Proxy: unnamed statements only. A named (server-side) prepared statement pins the
   * client's session to one database connection until it ends, which defeats the proxy's pooling
   * ("Avoiding pinning an RDS Proxy", PostgreSQL conditions:
   * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-pinning.html).
   */
  proxy?: boolean;
  /** Connections in this process's pool. */
  max?: number;
  /** Asked for each new connection (a rotating secret); else the URL's password. */
  password?: () => Promise<string>;
  /** TLS to the database: "verify-full" in AWS. */
  ssl?: "verify-full" | "require";
  /** Connect, statement and idle limits (deadline.ts); API_TIMEOUTS unless given. */
  timeouts?: DbTimeouts;
}

export interface Database {
  db: Db;
  close(): Promise<void>;
}

export function connect(target: DatabaseTarget): Database {
  const timeouts = target.timeouts ?? API_TIMEOUTS;
  const sockets = watchSockets(timeouts.deadlineMs);
  const client = postgres(target.url, {
    max: target.max ?? 5,
    prepare: !target.embedded && !target.proxy,
    ...(target.password ? { password: target.password } : {}),
    ...(target.ssl ? { ssl: target.ssl } : {}),
    onnotice: () => {},
    connection: { application_name: "kapa-service", statement_timeout: timeouts.statementTimeoutMs },
    connect_timeout: timeouts.connectTimeoutSeconds,
    idle_timeout: timeouts.idleTimeoutSeconds,
    max_lifetime: timeouts.maxLifetimeSeconds,
    backoff: reconnectBackoff,
    // Off: postgres.js runs its array-types query on each new connection and drops that promise,
    // so a connection lost at that moment is an unhandled rejection, which ends a Lambda runtime
    // (porsager/postgres#1192, #1223). No query here reads or binds Postgres arrays natively
    // (id lists go as text literals cast to uuid[]), so the types are not needed.
    fetch_types: false,
    // Not in postgres.js's types: a factory of the connection's socket (deadline.ts).
    ...({ socket: sockets.socket } as object),
  });
  withQueryDeadline(client, timeouts.deadlineMs, sockets.closeAll);
  return { db: drizzle(client, { schema }), close: () => client.end({ timeout: 5 }) };
}
