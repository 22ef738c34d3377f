import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import sesServerModule from "aws-ses-v2-local";

/**
 * The local SES: aws-ses-v2-local (SES v1 and v2 APIs, an inbox web page at `/`, the stored
 * emails as JSON at `GET /store`), bound to 127.0.0.1. Its mailbox lives in this process's
 * memory (one per process) and is gone when the process stops.
 */
export interface LocalSes {
  /** The SES API endpoint: what AWS_ENDPOINT_URL_SES is set to. */
  endpoint: string;
  /** The inbox, for people (live web page). */
  mailboxUrl: string;
  /** The inbox as JSON (`{emails: [...]}`), for programs. */
  storeUrl: string;
  stop(): Promise<void>;
}

/** One email in the local mailbox (aws-ses-v2-local's store format). */
export interface LocalEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  /** Epoch seconds. */
  at: number;
}

type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;
// A CommonJS module with `exports.default`: Node hands ESM importers the exports object itself.
const startServer: StartServer =
  (sesServerModule as unknown as { default?: StartServer }).default ?? (sesServerModule as unknown as StartServer);

export async function startLocalSes(port: number): Promise<LocalSes> {
  const server = await startServer({ host: "127.0.0.1", port });
  const address = server.address();
  // Express hands a listen error to the callback, so the promise resolves either way: check.
  if (!server.listening || address === null || typeof address === "string") {
    server.close();
    throw new Error(`The local SES could not listen on 127.0.0.1:${port} (SES_PORT): is the port taken?`);
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    mailboxUrl: `${endpoint}/`,
    storeUrl: `${endpoint}/store`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive: close them, or close() waits for their timeout.
        server.closeAllConnections();
      }),
  };
}

/** The emails of a local SES mailbox (optionally only those sent at or after `since`). */
export async function readLocalMailbox(endpoint: string, since?: Date): Promise<LocalEmail[]> {
  const url = new URL("/store", endpoint);
  if (since) url.searchParams.set("since", String(Math.floor(since.getTime() / 1000)));
  const response = await fetch(url);
  if (!response.ok) throw new Error(`The local SES mailbox answered ${response.status}`);
  const store = (await response.json()) as { emails?: LocalEmail[] };
  return store.emails ?? [];
}

/**
 * `npm start` records its local SES in DATA_DIR/local-ses.json (as it does its embedded
 * database) so that `npx kapa report send` sends to the same mailbox.
 */
const stateFile = (dataDir: string) => join(dataDir, "local-ses.json");

export function advertiseLocalSes(dataDir: string, ses: Pick<LocalSes, "endpoint">): () => void {
  writeFileSync(stateFile(dataDir), JSON.stringify({ endpoint: ses.endpoint, pid: process.pid }));
  return () => rmSync(stateFile(dataDir), { force: true });
}

/** The endpoint of the local SES a running `npm start` advertises in DATA_DIR, if any. */
export async function findRunningLocalSes(dataDir: string): Promise<string | null> {
  let endpoint: string;
  try {
    ({ endpoint } = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as { endpoint: string });
  } catch {
    return null;
  }
  try {
    const response = await fetch(new URL("/health-check", endpoint), { signal: AbortSignal.timeout(2000) });
    return response.ok ? endpoint : null;
  } catch {
    return null;
  }
}
