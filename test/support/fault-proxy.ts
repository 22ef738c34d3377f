import { createServer, connect as netConnect, type Server, type Socket } from "node:net";

/**
 * A TCP proxy between the service and its database that misbehaves on demand, as a network or a
 * database does:
 * - `refuse`: nothing listens (ECONNREFUSED); open connections are reset (the database restarts).
 * - `reset`: connections are accepted, then reset at once; open ones too.
 * - `blackhole`: connections are accepted and nothing ever comes back; open ones go silent too.
 *   When it heals, the silenced connections are reset (their conversation was lost).
 * - `delay`: every chunk, either way, is held `delayMs` (order kept).
 * - `too-many-connections` / `starting-up`: each new connection gets Postgres's own FATAL answer
 *   to its startup message (SQLSTATE 53300 / 57P03) and is closed; open ones are reset.
 * - `reset-after-login`: each new connection logs in, then is reset when the client sends its
 *   first message after the server's first ReadyForQuery (a backend killed as the session starts).
 * - `pass`: a plain proxy.
 */
export type FaultMode =
  | "pass"
  | "refuse"
  | "reset"
  | "blackhole"
  | "delay"
  | "too-many-connections"
  | "starting-up"
  | "reset-after-login";

export interface FaultProxy {
  /** The target URL with the proxy's host and port. */
  url: string;
  set(mode: FaultMode, options?: { delayMs?: number }): Promise<void>;
  close(): Promise<void>;
}

const FATAL = {
  "too-many-connections": { code: "53300", message: "sorry, too many clients already" },
  "starting-up": { code: "57P03", message: "the database system is starting up" },
} as const;

/** A Postgres ErrorResponse message (type 'E'): severity, code, message. */
function errorResponse(code: string, message: string): Buffer {
  const field = (type: string, value: string) => Buffer.concat([Buffer.from(type), Buffer.from(`${value}\0`)]);
  const fields = Buffer.concat([field("S", "FATAL"), field("V", "FATAL"), field("C", code), field("M", message)]);
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

interface Link {
  client: Socket;
  upstream?: Socket;
  silenced: boolean;
}

interface ProxyState {
  mode: FaultMode;
  delayMs: number;
  links: Set<Link>;
  target: { host: string; port: number };
}

/** Passes `from`'s bytes on to `to` (held back in order while the mode is delay; none while silenced). */
function forward(state: ProxyState, from: Socket, to: () => Socket | undefined, link: Link) {
  let chain = Promise.resolve();
  from.on("data", (chunk: Buffer) => {
    if (link.silenced) return;
    if (state.mode !== "delay") return void to()?.write(chunk);
    const wait = state.delayMs;
    chain = chain.then(() => new Promise((resolve) => setTimeout(resolve, wait))).then(() => void to()?.write(chunk));
  });
}

function pipe(state: ProxyState, link: Link, first?: Buffer) {
  const { client } = link;
  const upstream = netConnect(state.target);
  link.upstream = upstream;
  upstream.on("error", () => client.destroy());
  upstream.once("close", () => client.destroy());
  if (first) upstream.write(first);
  forward(state, client, () => link.upstream, link);
  forward(state, upstream, () => client, link);
}

/** A new client connection, answered as the mode in force says. */
function connectionHandler(state: ProxyState) {
  return (client: Socket) => {
    const link: Link = { client, silenced: false };
    state.links.add(link);
    client.on("error", () => {});
    client.once("close", () => {
      state.links.delete(link);
      link.upstream?.destroy();
    });
    if (state.mode === "reset") return client.resetAndDestroy();
    if (state.mode === "blackhole") {
      link.silenced = true;
      return;
    }
    if (state.mode === "too-many-connections" || state.mode === "starting-up") {
      // Answered by the mode in force when the startup message arrives: healed by then, it passes.
      client.once("data", (startup: Buffer) => {
        const fatal = state.mode === "too-many-connections" || state.mode === "starting-up" ? FATAL[state.mode] : null;
        if (fatal) client.end(errorResponse(fatal.code, fatal.message));
        else pipe(state, link, startup);
      });
      return;
    }
    if (state.mode === "reset-after-login") return resetAfterLogin(state, link);
    pipe(state, link);
  };
}

/** A ReadyForQuery message ('Z', length 5, status) ends the server's chunk. */
const endsWithReadyForQuery = (chunk: Buffer) =>
  chunk.length >= 6 && chunk[chunk.length - 6] === 0x5a && chunk.readInt32BE(chunk.length - 5) === 5;

function resetAfterLogin(state: ProxyState, link: Link) {
  let ready = false;
  // Ahead of the forwarding listeners: the first message after login never reaches the server.
  link.client.prependListener("data", () => {
    if (!ready) return;
    link.silenced = true;
    link.client.resetAndDestroy();
  });
  pipe(state, link);
  link.upstream?.prependListener("data", (chunk: Buffer) => {
    if (endsWithReadyForQuery(chunk)) ready = true;
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const state: ProxyState = {
    mode: "pass",
    delayMs: 0,
    links: new Set(),
    target: { host: target.hostname, port: Number(target.port || 5432) },
  };
  const onConnection = connectionHandler(state);
  let server: Server = createServer(onConnection);
  const port = await listen(server, 0);
  const stopListening = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const resetAll = () => {
    for (const link of state.links) link.client.resetAndDestroy();
  };

  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    async set(next, options = {}) {
      const previous = state.mode;
      if (previous === next) return;
      state.mode = next;
      state.delayMs = options.delayMs ?? 0;
      if (previous === "refuse") {
        server = createServer(onConnection);
        await listen(server, port);
      }
      if (previous === "blackhole") {
        for (const link of state.links) if (link.silenced) link.client.resetAndDestroy();
      }
      if (next === "refuse") {
        resetAll();
        await stopListening();
      } else if (next === "blackhole") {
        for (const link of state.links) link.silenced = true;
      } else if (next !== "pass" && next !== "delay" && next !== "reset-after-login") {
        resetAll();
      }
    },
    async close() {
      resetAll();
      if (state.mode !== "refuse") await stopListening();
    },
  };
}
