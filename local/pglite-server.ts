import { createServer, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";

type QueryQueue = PGLiteSocketHandlerOptions["queryQueue"];

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

const SYNC = 0x53; // 'S'
const SIMPLE_QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** The startup message has no type byte: it starts with its length, whose first byte is 0. */
const endsExchange = (message: Uint8Array) =>
  message[0] === SYNC || message[0] === SIMPLE_QUERY || message[0] === TERMINATE || message[0] === 0;

/**
 * pglite-socket's own queue interleaves connections message by message, which mixes up the
 * unnamed statements and portals of two clients using the extended protocol (postgres-js sends
 * Parse/Describe/Flush, waits, then Bind/Execute/Sync). This queue gives the one PGlite session
 * to a connection from its first message until it reaches a Sync (or a simple query) outside a
 * transaction block, so each client sees the session as its own.
 */
export class SessionQueue {
  private readonly waiting: Pending[] = [];
  private owner: number | null = null;
  private pumping = false;

  constructor(private readonly pg: PGlite) {}

  /** A closed PGlite (the server is stopping) has no session left to be in a transaction. */
  private inTransaction(): boolean {
    return !this.pg.closed && this.pg.isInTransaction();
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const index = this.owner === null ? 0 : this.waiting.findIndex((p) => p.handlerId === this.owner);
        if (index < 0 || this.waiting.length === 0) break;
        const [item] = this.waiting.splice(index, 1);
        if (!item) break;
        this.owner = item.handlerId;
        let bytes = 0;
        try {
          await this.pg.runExclusive(() =>
            this.pg.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          item.resolve(bytes);
        } catch (error) {
          item.reject(error);
        }
        if (endsExchange(item.message) && !this.inTransaction()) this.owner = null;
      }
    } finally {
      this.pumping = false;
    }
  }

  getQueueLength(): number {
    return this.waiting.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const item = this.waiting[i];
      if (item?.handlerId !== handlerId) continue;
      this.waiting.splice(i, 1);
      item.reject(new Error("connection closed"));
    }
  }

  /** A client that disconnects mid-transaction must not leave the session to the next one in it. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.inTransaction()) await this.pg.exec("ROLLBACK");
    this.owner = null;
    void this.pump();
  }
}

/** A Postgres wire-protocol server for one PGlite, safe for several concurrent clients. */
export async function servePglite(
  pg: PGlite,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const queue = new SessionQueue(pg);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as QueryQueue, closeOnDetach: true });
    handler.attach(socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
