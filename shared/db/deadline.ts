import { connect as netConnect, type Socket } from "node:net";
import type { Sql } from "postgres";
import { QUERY_DEADLINE_CODE } from "./errors.js";

/**
 * How long the database may take, chosen so that a request that depends on an unreachable,
 * silent or overloaded database answers 503 within 3 s, far inside API Gateway's 29 s
 * integration timeout and the API Lambdas' 29 s (authorizer: 10 s) timeouts:
 * - `connectTimeoutSeconds`: a TCP connect plus startup that takes longer fails (postgres.js
 *   `connect_timeout`; its default, 30 s, outlives API Gateway).
 * - `statementTimeoutMs`: the server cancels a statement running longer (`statement_timeout`,
 *   sent as a startup parameter; lock waits count). 0 turns it off (migrations, operator CLI).
 * - `deadlineMs`: the client's own limit, a little above the server's: a query still queued for a
 *   connection is cancelled (one already sent is cancelled on the server and failed 200 ms later),
 *   and a connection that sent a query and heard nothing back for this long (a black-holed
 *   network, a frozen server) is destroyed, failing its queries.
 * - `idleTimeoutSeconds` / `maxLifetimeSeconds`: pooled connections are closed when idle, and
 *   renewed, well before RDS Proxy's idle client timeout (30 min) drops them silently.
 */
export interface DbTimeouts {
  connectTimeoutSeconds: number;
  statementTimeoutMs: number;
  deadlineMs: number;
  idleTimeoutSeconds: number;
  maxLifetimeSeconds: number;
}

export const API_TIMEOUTS: DbTimeouts = {
  connectTimeoutSeconds: 2,
  statementTimeoutMs: 2000,
  deadlineMs: 2400,
  idleTimeoutSeconds: 60,
  maxLifetimeSeconds: 15 * 60,
};

/** Migrations and operator commands: a long statement is expected, only connecting is bounded. */
export const UNBOUNDED_STATEMENTS: DbTimeouts = { ...API_TIMEOUTS, statementTimeoutMs: 0, deadlineMs: 0 };

/**
 * postgres.js waits `3^retries / 100` s (up to 20 s) before reconnecting after failed attempts,
 * so after an outage the first request waited seconds for the pool to try again. Retry within
 * a quarter of a second instead: a refused connect costs nothing.
 */
export const reconnectBackoff = (retries: number): number =>
  Math.min(0.05 * 2 ** retries, 0.25) * (0.5 + Math.random() / 2);

function deadlineError(message: string, host: string, port: number): Error {
  return Object.assign(new Error(message), { code: QUERY_DEADLINE_CODE, address: host, port });
}

/**
 * The `socket` of postgres.js: a plain TCP socket (postgres.js writes the startup message at once;
 * the socket sends it when connected, and postgres.js's connect timeout still applies), watched:
 * when it has written and heard nothing back for `deadlineMs`, it is destroyed, which fails its
 * queries and lets the pool connect again.
 */
export function watchedSocket(deadlineMs: number) {
  return (options: { host: string[]; port: number[] }): Socket => {
    const host = options.host[0] ?? "localhost";
    const port = options.port[0] ?? 5432;
    const socket = Object.assign(netConnect({ host, port }), { host, port });
    if (deadlineMs <= 0) return socket;
    let timer: NodeJS.Timeout | null = null;
    let pending = 0;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        socket.destroy(
          deadlineError(`no answer from the database at ${host}:${port} within ${deadlineMs} ms`, host, port),
        );
      }, deadlineMs);
      timer.unref();
    };
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      pending++;
      if (pending === 1) arm();
      return write(...args);
    }) as Socket["write"];
    socket.on("data", () => {
      // Heard back: one write answered. Writes pipelined behind it keep the watch on.
      pending = pending > 1 ? pending - 1 : 0;
      if (pending > 0) arm();
      else if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    });
    socket.once("close", () => timer && clearTimeout(timer));
    return socket;
  };
}

interface CancellableQuery {
  cancel(): unknown;
  reject?: (error: unknown) => void;
}

/** How long a cancelled query may take to be settled by the driver before the deadline settles it. */
const SETTLE_GRACE_MS = 200;

/**
 * Every query of this pool (transactions start with one too) gets the client deadline: a query
 * still waiting for a connection is then cancelled (it never reaches the database); one that was
 * sent is cancelled on the server, and its silent connection is destroyed by `watchedSocket`.
 */
export function withQueryDeadline(sql: Sql, deadlineMs: number): Sql {
  if (deadlineMs <= 0) return sql;
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((...args: Parameters<Sql["unsafe"]>) => {
    const query = unsafe(...args);
    const pending = query as unknown as CancellableQuery;
    const timer = setTimeout(() => {
      Promise.resolve(pending.cancel()).catch(() => {});
      // postgres.js never settles a query written to a connection between its socket's error and
      // close events: settle it here (a query the driver settled meanwhile is not affected).
      setTimeout(() => {
        pending.reject?.(
          Object.assign(new Error(`no answer from the database within ${deadlineMs} ms`), {
            code: QUERY_DEADLINE_CODE,
          }),
        );
      }, SETTLE_GRACE_MS).unref();
    }, deadlineMs);
    timer.unref();
    // The intrinsic then: postgres.js's own `then` would start the query before the caller is done with it.
    Promise.prototype.then.call(
      query,
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
    return query;
  }) as Sql["unsafe"];
  return sql;
}
