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
 *   connection is cancelled, one already sent is failed, and a connection that sent a query and
 *   heard nothing back for this long (a black-holed network, a frozen server) is destroyed,
 *   failing its queries.
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
  return Object.assign(new Error(message), { code: QUERY_DEADLINE_CODE }, host ? { address: host, port } : {});
}

interface Watched {
  socket: Socket;
  /** Writes not yet followed by an answer (roughly: pipelined queries). */
  pending: number;
}

/**
 * The sockets of one pool, watched. `socket` is postgres.js's `socket` option: a plain TCP
 * socket (postgres.js writes the startup message at once; the socket sends it when connected,
 * and postgres.js's connect timeout still applies). A socket that has written and heard nothing
 * back for `deadlineMs` is destroyed, which fails its queries and lets the pool connect again.
 */
export function watchSockets(deadlineMs: number) {
  const live = new Set<Watched>();

  function socket(options: { host: string[]; port: number[] }): Socket {
    const host = options.host[0] ?? "localhost";
    const port = options.port[0] ?? 5432;
    const raw = Object.assign(netConnect({ host, port }), { host, port });
    if (deadlineMs <= 0) return raw;
    const watched: Watched = { socket: raw, pending: 0 };
    live.add(watched);
    let timer: NodeJS.Timeout | null = null;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        raw.destroy(
          deadlineError(`no answer from the database at ${host}:${port} within ${deadlineMs} ms`, host, port),
        );
      }, deadlineMs);
      timer.unref();
    };
    const write = raw.write.bind(raw) as (...args: unknown[]) => boolean;
    raw.write = ((...args: unknown[]) => {
      watched.pending++;
      if (watched.pending === 1) arm();
      return write(...args);
    }) as Socket["write"];
    raw.on("data", () => {
      // Heard back: one write answered. Writes pipelined behind it keep the watch on.
      watched.pending = watched.pending > 1 ? watched.pending - 1 : 0;
      if (watched.pending > 0) arm();
      else if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    });
    raw.once("close", () => {
      if (timer) clearTimeout(timer);
      live.delete(watched);
    });
    return raw;
  }

  /**
   * A sent query got no answer within the deadline, although the server's statement_timeout
   * would have ended it sooner: the path to the database is broken. postgres.js can then hold a
   * connection it believes busy that nothing will ever answer (seen after resets at the wrong
   * moment), so every connection of the pool is closed; the pool opens new ones on demand.
   */
  function closeAll(): void {
    for (const w of live) w.socket.destroy(deadlineError("closed after a query deadline", "", 0));
  }

  return { socket, closeAll };
}

/** What postgres.js's Query exposes beyond a promise (not in its types). */
interface DriverQuery {
  /** Set once the query is written to a connection. */
  state?: unknown;
  strings: string[];
  args: unknown[];
  options: { simple?: boolean; onexecute?: unknown };
  reject(error: unknown): void;
}

/**
 * Every query of this pool (transactions start with one too) gets the client deadline: a query
 * still waiting for a connection is then cancelled (it never reaches the database); one that was
 * sent is failed and the pool's connections are closed (`watchSockets`).
 */
export function withQueryDeadline(sql: Sql, deadlineMs: number, onSentQueryDeadline: () => void): Sql {
  if (deadlineMs <= 0) return sql;
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((...args: Parameters<Sql["unsafe"]>) => {
    const query = unsafe(...args);
    const pending = query as unknown as DriverQuery;
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`no answer from the database within ${deadlineMs} ms`), {
        code: QUERY_DEADLINE_CODE,
      });
      if (!pending.state) {
        // Still waiting for a connection: it must never run later, after its request got a 503.
        // postgres.js's own cancel() would strand a connection whose first query it is (the
        // connection never leaves its "connecting" state), so the query is emptied instead.
        // (A transaction's "begin" also drops its hook that would reserve the connection for good.)
        Object.assign(pending, { strings: ["select 1"], args: [] });
        Object.assign(pending.options, { simple: true, onexecute: undefined });
        return pending.reject(error);
      }
      // Sent: the server's statement_timeout ended it already if the server is there. postgres.js
      // never settles a query written to a connection between its socket's error and close
      // events; this settles it (a cancel over a new connection would fail too, unobserved).
      pending.reject(error);
      onSentQueryDeadline();
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
