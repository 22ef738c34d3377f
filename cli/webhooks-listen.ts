import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { named } from "../shared/platform/errors.js";
import { WEBHOOK_EVENT_TYPES } from "../shared/webhooks/model.js";

/**
 * `npx kapa webhooks listen`: a receiver on loopback for a developer, registered as a webhook
 * endpoint through the API of a running `npm start` (its URL and an API key of the project), which
 * verifies each delivery with the `standardwebhooks` package and prints it. The endpoint is
 * deleted again when the listener stops. Talks to the API only (no database, nothing of local/).
 */
export interface ListenOptions {
  project: string;
  apiUrl: string;
  apiKey: string;
  /** Port of the receiver on 127.0.0.1 (0: any free one). */
  port: number;
  events?: readonly string[];
  /** Each verified delivery (or a refused one, with `error`). */
  onEvent(line: ListenedEvent): void;
  /**
   * Stop asked for (Ctrl-C) while the endpoint is being registered: the endpoint is deleted as soon
   * as it exists and listen() rejects with ListenerStopped. Without it, a Ctrl-C during a slow
   * registration left an endpoint nobody listens on, counting towards the project's 10.
   */
  signal?: AbortSignal;
}

/** listen() was stopped before it listened; nothing it registered is left. */
export class ListenerStopped extends named("ListenerStopped", Error) {
  constructor() {
    super("stopped before listening");
  }
}

/** What stop() did with the endpoint: a warning names it when it could not be deleted (the API was down). */
export interface Stopped {
  deleted: boolean;
  error?: string;
}

export interface ListenedEvent {
  webhookId: string;
  type: string;
  /** When the change happened (the body's `timestamp`): deliveries arrive later, and in any order. */
  timestamp: string;
  data: unknown;
  /** Set when the signature did not verify (the delivery is answered 401). */
  error?: string;
}

export interface Listener {
  url: string;
  webhookId: string;
  stop(): Promise<Stopped>;
}

async function api(options: ListenOptions, method: string, path: string, body?: unknown) {
  const response = await fetch(`${options.apiUrl.replace(/\/$/, "")}/query/v1/projects/${options.project}${path}`, {
    method,
    headers: { "x-api-key": options.apiKey, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) throw new Error(`${method} webhooks: HTTP ${response.status}: ${String(json.detail ?? text)}`);
  return json;
}

function receiver(secret: () => string, onEvent: ListenOptions["onEvent"]): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const webhookId = String(req.headers["webhook-id"] ?? "");
      try {
        const event = new Webhook(secret()).verify(body, req.headers as Record<string, string>) as {
          type: string;
          timestamp: string;
          data: unknown;
        };
        onEvent({ webhookId, type: event.type, timestamp: event.timestamp, data: event.data });
        res.writeHead(204).end();
      } catch (error) {
        onEvent({
          webhookId,
          type: "",
          timestamp: new Date().toISOString(),
          data: null,
          error: error instanceof Error ? error.message : String(error),
        });
        res.writeHead(401).end();
      }
    });
  });
}

export async function listen(options: ListenOptions): Promise<Listener> {
  let secret = "";
  const server = receiver(() => secret, options.onEvent);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  let created: Record<string, unknown>;
  try {
    created = await api(options, "POST", "/webhooks/", {
      url,
      events: options.events ?? WEBHOOK_EVENT_TYPES,
      description: "npx kapa webhooks listen",
    });
  } catch (error) {
    await close();
    throw error;
  }
  secret = String(created.secret);
  const webhookId = String(created.id);
  const stop = async (): Promise<Stopped> => {
    server.closeAllConnections();
    const [, deleted] = await Promise.all([
      close(),
      api(options, "DELETE", `/webhooks/${webhookId}/`).then(
        () => ({ deleted: true }),
        (error: unknown) => ({ deleted: false, error: error instanceof Error ? error.message : String(error) }),
      ),
    ]);
    return deleted;
  };
  if (options.signal?.aborted) {
    await stop();
    throw new ListenerStopped();
  }
  return { url, webhookId, stop };
}

/** One line per event: the event's time, type, webhook-id and the data as JSON (a refused one: when it came). */
export function formatEvent(event: ListenedEvent): string {
  if (event.error) return `${event.timestamp}  REFUSED ${event.webhookId || "-"}: ${event.error}`;
  return `${event.timestamp}  ${event.type}  ${event.webhookId}  ${JSON.stringify(event.data)}`;
}
