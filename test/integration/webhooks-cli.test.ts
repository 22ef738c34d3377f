import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatEvent,
  type ListenedEvent,
  ListenerStopped,
  type ListenOptions,
  listen,
} from "../../cli/webhooks-listen.js";
import { webhookEndpoints } from "../../shared/db/webhook-schema.js";
import { createTenant, useTestDb } from "../support/db.js";
import { startTestGateway } from "../support/http.js";
import { eventually } from "../support/sqs.js";
import { type DeliveryPipeline, deliveryPipeline } from "../support/webhooks.js";

// The listener's endpoint is on loopback, as under `npm start`.
process.env.WEBHOOK_ALLOW_LOOPBACK = "true";

const db = useTestDb();
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let pipeline: DeliveryPipeline;

beforeAll(async () => {
  gateway = await startTestGateway();
  pipeline = await deliveryPipeline({ db, label: "webhooks-cli" });
});
afterAll(() => gateway.gateway.close());

/** `listen` for the tenant's project through the test gateway, on any free port. */
function listenAs(
  t: { projectId: string; apiKey: string },
  options: Omit<ListenOptions, "project" | "apiUrl" | "apiKey" | "port">,
) {
  const apiUrl = gateway.gateway.url.replace("localhost", "127.0.0.1");
  return listen({ project: t.projectId, apiUrl, apiKey: t.apiKey, port: 0, ...options });
}

describe("npx kapa webhooks listen", () => {
  it("registers a loopback receiver through the API, prints verified events, and removes it on stop", async () => {
    const t = await createTenant(db);
    const events: ListenedEvent[] = [];
    const listener = await listenAs(t, { onEvent: (e) => events.push(e) });
    try {
      const created = await gateway.call("POST", `/query/v1/projects/${t.projectId}/categories/`, {
        key: t.apiKey,
        body: JSON.stringify({ name: "Careers", description: "Asking for open positions" }),
      });
      expect(created.status).toBe(201);
      await eventually(async () => {
        await pipeline.step();
        return events.length > 0 ? true : undefined;
      });
      const [event] = events;
      expect(event).toMatchObject({ type: "category.created", data: { category: { name: "Careers" } } });
      expect(event?.error).toBeUndefined();
      // The line carries when the change happened (the category's creation), not when it arrived.
      expect(event?.timestamp).toBe(created.json?.created_at);
      expect(formatEvent(event as ListenedEvent)).toMatch(new RegExp(`^${event?.timestamp}  category\\.created  `));
    } finally {
      await listener.stop();
    }
    const left = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.projectId, t.projectId));
    expect(left).toEqual([]);
  });

  it("a stop asked for while the endpoint is being registered leaves no endpoint behind", async () => {
    // Found by the outside probe: a Ctrl-C before the slow POST answered (a cold webhook function
    // on a busy machine) ended the process, the endpoint stayed, and counted towards the 10.
    const t = await createTenant(db);
    const interrupted = new AbortController();
    const listening = listenAs(t, { signal: interrupted.signal, onEvent: () => undefined });
    interrupted.abort();
    await expect(listening).rejects.toBeInstanceOf(ListenerStopped);
    const left = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.projectId, t.projectId));
    expect(left).toEqual([]);
  });

  it("says when stop could not delete the endpoint", async () => {
    const t = await createTenant(db);
    const listener = await listenAs(t, { onEvent: () => undefined });
    // Deleted behind its back: the listener's DELETE answers 404, which it reports.
    const deleted = await gateway.call("DELETE", `/query/v1/projects/${t.projectId}/webhooks/${listener.webhookId}/`, {
      key: t.apiKey,
    });
    expect(deleted.status).toBe(204);
    expect(await listener.stop()).toMatchObject({ deleted: false, error: expect.stringMatching(/HTTP 404/) });
  });

  it("fails with the API's detail when the key is not the project's", async () => {
    const t = await createTenant(db);
    const other = await createTenant(db);
    await expect(
      listenAs({ projectId: t.projectId, apiKey: other.apiKey }, { onEvent: () => undefined }),
    ).rejects.toThrow(/HTTP 403/);
  });
});
