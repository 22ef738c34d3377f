import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/**
 * The benchmark's customer: verifies every delivery with the `standardwebhooks` package and
 * keeps, per path, the first receipt of each webhook-id (its latency from the label's
 * `labelled_at`) and the count of all receipts. Paths in `hang` never answer.
 */
export async function startReceiver() {
  const secrets = new Map<string, string>();
  const hang = new Set<string>();
  const first = new Map<string, { path: string; latencyMs: number }>();
  const receipts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (hang.has(path)) return;
      const body = Buffer.concat(chunks).toString("utf8");
      const event = new Webhook(secrets.get(path) as string).verify(body, req.headers as Record<string, string>) as {
        data: { labelled_at: string };
      };
      receipts.set(path, (receipts.get(path) ?? 0) + 1);
      const id = String(req.headers["webhook-id"]);
      if (!first.has(id)) first.set(id, { path, latencyMs: Date.now() - Date.parse(event.data.labelled_at) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secrets,
    hang,
    /** Latencies of the distinct events delivered to `path`. */
    delivered: (path: string) => [...first.values()].filter((f) => f.path === path).map((f) => f.latencyMs),
    receiptsOf: (path: string) => receipts.get(path) ?? 0,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
