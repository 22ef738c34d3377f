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
 * - `pass`: a plain proxy.
 */
export type FaultMode = "pass" | "refuse" | "reset" | "blackhole" | "delay" | "too-many-connections" | "starting-up";

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

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  let mode: FaultMode = "pass";
  let delayMs = 0;
  const links = new Set<Link>();

  const forward = (from: Socket, to: () => Socket | undefined, link: Link) => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      if (link.silenced) return;
      if (mode !== "delay") return void to()?.write(chunk);
      const wait = delayMs;
      chain = chain.then(() => new Promise((resolve) => setTimeout(resolve, wait))).then(() => void to()?.write(chunk));
    });
  };

  const onConnection = (client: Socket) => {
    const link: Link = { client, silenced: false };
    links.add(link);
    client.on("error", () => {});
    client.once("close", () => {
      links.delete(link);
      link.upstream?.destroy();
    });
    if (mode === "reset") return client.resetAndDestroy();
    if (mode === "blackhole") {
      link.silenced = true;
      return;
    }
    if (mode === "too-many-connections" || mode === "starting-up") {
      // Answered by the mode in force when the startup message arrives: healed by then, it passes.
      client.once("data", (startup: Buffer) => {
        const fatal = mode === "too-many-connections" || mode === "starting-up" ? FATAL[mode] : null;
        if (fatal) client.end(errorResponse(fatal.code, fatal.message));
        else pipe(link, startup);
      });
      return;
    }
    pipe(link);
  };

  function pipe(link: Link, first?: Buffer) {
    const { client } = link;
    const upstream = netConnect({ host: target.hostname, port: targetPort });
    link.upstream = upstream;
    upstream.on("error", () => client.destroy());
    upstream.once("close", () => client.destroy());
    if (first) upstream.write(first);
    forward(client, () => link.upstream, link);
    forward(upstream, () => client, link);
  }

  let server: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  const port = await listen(0);
  const stopListening = () => new Promise<void>((resolve) => server.close(() => resolve()));

  const resetAll = () => {
    for (const link of links) link.client.resetAndDestroy();
  };

  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    async set(next, options = {}) {
      const previous = mode;
      if (previous === next) return;
      mode = next;
      delayMs = options.delayMs ?? 0;
      if (previous === "refuse") {
        server = createServer(onConnection);
        await listen(port);
      }
      if (previous === "blackhole") {
        for (const link of links) if (link.silenced) link.client.resetAndDestroy();
      }
      if (next === "refuse") {
        resetAll();
        await stopListening();
      } else if (next === "blackhole") {
        for (const link of links) link.silenced = true;
      } else if (next !== "pass" && next !== "delay") {
        resetAll();
      }
    },
    async close() {
      resetAll();
      if (mode !== "refuse") await stopListening();
    },
  };
}
