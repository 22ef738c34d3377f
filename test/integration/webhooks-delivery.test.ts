import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relabelDeletedCategories } from "../../shared/categories/relabel.js";
import { UnlabelRepository } from "../../shared/categories/unlabel.js";
import { SqsClassificationQueue } from "../../shared/classification/queue.js";
import { LabelsRepository } from "../../shared/classification/repository.js";
import { categories, threads } from "../../shared/db/schema.js";
import { webhookEndpoints, webhookEvents } from "../../shared/db/webhook-schema.js";
import { deliveryFor } from "../../shared/webhooks/dispatcher.js";
import { MessageSeal } from "../../shared/webhooks/message-seal.js";
import { createTenant, type Tenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";
import { createTestQueue, eventually, testSqs } from "../support/sqs.js";
import {
  type DeliveryPipeline,
  deliveryPipeline,
  type Received,
  startReceiver,
  TEST_MESSAGE_KEY,
} from "../support/webhooks.js";

// Under `npm start` loopback endpoints are allowed: the receiver listens on 127.0.0.1.
process.env.WEBHOOK_ALLOW_LOOPBACK = "true";

const db = useTestDb();
/** Above the flaky receiver's three failures. */
const DISABLE_AFTER = 5;
const labels = new LabelsRepository(db);
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let pipeline: DeliveryPipeline;

beforeAll(async () => {
  receiver = await startReceiver();
  pipeline = await deliveryPipeline({ db, label: "webhooks", disableAfter: DISABLE_AFTER });
});
afterAll(() => receiver.close());

async function subscribe(
  t: Tenant,
  path: string,
  events: string[],
  behaviour: Parameters<typeof receiver.endpoint>[1],
) {
  const reply = await invoke("createWebhook", t, { body: { url: receiver.endpoint(path, behaviour), events } });
  expect(reply.status).toBe(201);
  receiver.setSecret(path, reply.body.secret as string);
  return reply.body.id as string;
}

async function seedThread(t: Tenant, question: string): Promise<string> {
  const [row] = await db.insert(threads).values({ projectId: t.projectId, firstQuestion: question }).returning();
  return (row as { id: string }).id;
}

async function categoryId(t: Tenant, name: string): Promise<string> {
  const rows = await db.select().from(categories).where(eq(categories.projectId, t.projectId));
  return rows.find((c) => c.name === name)?.id as string;
}

/** Distinct deliveries (by webhook-id) a path received. */
const distinct = (path: string) => {
  const byId = new Map<string, Received>();
  for (const r of receiver.received.filter((x) => x.path === path)) byId.set(r.webhookId, r);
  return [...byId.values()];
};

/** Runs the pipeline until `check` holds. */
async function pumpUntil(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      await pipeline.step();
      return check() ? true : undefined;
    },
    timeoutMs,
    20,
  );
}

/** A classifier's label as the pipeline writes it. */
/** A new project's endpoint at `path`, subscribed to category.created, and that event delivered to it once. */
async function categoryCreatedDelivered(path: string) {
  const t = await createTenant(db);
  const id = await subscribe(t, path, ["category.created"], "ok");
  await invoke("createCategory", t, { body: { name: `Category for ${path}` } });
  await pumpUntil(() => distinct(path).length === 1);
  const [event] = await db.select().from(webhookEvents).where(eq(webhookEvents.projectId, t.projectId));
  const [endpoint] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  if (!event || !endpoint) throw new Error("no event or endpoint");
  return { t, event, endpoint };
}

const label = (threadId: string, categoryId: string) => ({
  threadId,
  categoryId,
  confidence: 0.8,
  rationale: "A test label.",
  actor: "test/fixed@1",
  mode: "unlabelled" as const,
});

describe("webhook delivery", () => {
  it("delivers label changes by the classifier, a user and a category deletion once per endpoint, signed", async () => {
    const t = await createTenant(db);
    const events = ["thread.labelled", "category.deleted"];
    await subscribe(t, "/a1", events, "ok");
    await subscribe(t, "/a2", events, "ok");
    const discovery = await categoryId(t, "Discovery");
    const troubleshooting = await categoryId(t, "Troubleshooting");
    const [first, second] = [await seedThread(t, "How do I set up SSO?"), await seedThread(t, "Error 500")];

    expect(await labels.writeClassifierLabel(label(first, discovery))).toBe(true);
    expect(
      (await invoke("updateThread", t, { params: { thread_id: second }, body: { category_id: troubleshooting } }))
        .status,
    ).toBe(200);
    // The same label again changes nothing: no event.
    await invoke("updateThread", t, { params: { thread_id: second }, body: { category_id: troubleshooting } });
    expect((await invoke("deleteCategory", t, { params: { category_id: discovery } })).status).toBe(204);
    // The sweeper's run unlabels the deleted category's threads (source system) and finishes it.
    const backfill = await createTestQueue("webhooks-relabel");
    const relabelled = await relabelDeletedCategories(
      { unlabel: new UnlabelRepository(db), backfillQueue: new SqsClassificationQueue(testSqs, backfill.queueUrl) },
      { deadline: Date.now() + 10_000, projectIds: [t.projectId] },
    );
    expect(relabelled).toMatchObject({ unlabelled: 1, finished: 1 });

    await pumpUntil(() => distinct("/a1").length >= 4 && distinct("/a2").length >= 4);
    for (const path of ["/a1", "/a2"]) {
      const got = distinct(path);
      expect(got).toHaveLength(4);
      expect(got.every((r) => r.verified)).toBe(true);
      const labelled = got.filter((r) => r.type === "thread.labelled").map((r) => r.data);
      expect(labelled).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            thread_id: first,
            source: "classifier",
            category: { id: discovery, name: "Discovery" },
            confidence: 0.8,
            rationale: "A test label.",
            actor: "test/fixed@1",
            previous_category: null,
          }),
          expect.objectContaining({
            thread_id: second,
            source: "user",
            category: { id: troubleshooting, name: "Troubleshooting" },
          }),
          expect.objectContaining({
            thread_id: first,
            source: "system",
            category: null,
            previous_category: { id: discovery, name: "Discovery" },
            actor: "category_deleted",
          }),
        ]),
      );
      expect(got.find((r) => r.type === "category.deleted")?.data).toMatchObject({
        category: { id: discovery, name: "Discovery" },
      });
    }
    // Both endpoints got the same event ids: webhook-id is the event's.
    expect(new Set(distinct("/a1").map((r) => r.webhookId))).toEqual(new Set(distinct("/a2").map((r) => r.webhookId)));
  });

  it("writes no event for a project without a subscribed endpoint", async () => {
    const t = await createTenant(db);
    await subscribe(t, "/categories-only", ["category.created"], "ok");
    const thread = await seedThread(t, "Where are the docs?");
    await labels.writeClassifierLabel(label(thread, await categoryId(t, "Discovery")));
    const rows = await db.select().from(webhookEvents).where(eq(webhookEvents.projectId, t.projectId));
    expect(rows).toEqual([]);
  });
});

describe("webhook delivery to failing receivers", () => {
  it("retries a receiver that fails three times until it succeeds, and logs every attempt", async () => {
    const t = await createTenant(db);
    const id = await subscribe(t, "/flaky", ["category.created"], { failFirst: 3 });
    expect((await invoke("createCategory", t, { body: { name: "Billing" } })).status).toBe(201);
    await pumpUntil(() => distinct("/flaky").length === 1);
    expect(receiver.counts.get("/flaky")).toBe(4);
    const page = await invoke("listWebhookDeliveries", t, { params: { webhook_id: id }, query: { limit: "2" } });
    const results = page.body.results as { attempt: number; status_code: number; outcome: string; event_id: string }[];
    expect(results.map((r) => [r.attempt, r.status_code, r.outcome])).toEqual([
      [4, 204, "succeeded"],
      [3, 500, "retrying"],
    ]);
    const cursor = new URL(page.body.next as string).searchParams.get("cursor") as string;
    const older = await invoke("listWebhookDeliveries", t, {
      params: { webhook_id: id },
      query: { limit: "2", cursor },
    });
    expect((older.body.results as { attempt: number }[]).map((r) => r.attempt)).toEqual([2, 1]);
    expect(older.body.next).toBeNull();
    expect(new Set([...results, ...(older.body.results as typeof results)].map((r) => r.event_id)).size).toBe(1);
    const endpoint = await invoke("getWebhook", t, { params: { webhook_id: id } });
    expect(endpoint.body).toMatchObject({ enabled: true, consecutive_failures: 0 });
  });

  it("cuts a hanging receiver at the timeout while another project's endpoint is served", async () => {
    const noisy = await createTenant(db);
    const quiet = await createTenant(db);
    const hanging = await subscribe(noisy, "/hang", ["category.created"], "hang");
    await subscribe(quiet, "/quiet", ["category.created"], "ok");
    await invoke("createCategory", noisy, { body: { name: "Noise" } });
    await invoke("createCategory", quiet, { body: { name: "Calm" } });
    await pumpUntil(() => distinct("/quiet").length === 1);
    const log = await eventually(async () => {
      await pipeline.step();
      const page = await invoke("listWebhookDeliveries", noisy, { params: { webhook_id: hanging } });
      const rows = page.body.results as { error: string | null; status_code: number | null }[];
      return rows.length > 0 ? rows : undefined;
    });
    expect(log[0]).toMatchObject({ status_code: null, error: "timed out after 5000 ms" });
    // The sender now holds that endpoint's other deliveries back instead of spending a slot on each.
    await invoke("createCategory", noisy, { body: { name: "More noise" } });
    const before = receiver.counts.get("/hang");
    await pipeline.step();
    await pipeline.step();
    expect(receiver.counts.get("/hang")).toBe(before);
  });

  it("disables a noisy project's failing endpoint after consecutive failures, beside a quiet healthy one", async () => {
    const noisy = await createTenant(db);
    const quiet = await createTenant(db);
    const failing = await subscribe(noisy, "/down", ["category.created"], "fail");
    await subscribe(quiet, "/up", ["category.created"], "ok");
    for (const name of ["A", "B", "C", "D", "E"]) {
      await invoke("createCategory", noisy, { body: { name } });
      await invoke("createCategory", quiet, { body: { name } });
    }
    await pumpUntil(() => distinct("/up").length === 5);
    const disabled = await eventually(async () => {
      await pipeline.step();
      const reply = await invoke("getWebhook", noisy, { params: { webhook_id: failing } });
      return reply.body.enabled === false ? reply.body : undefined;
    });
    expect(disabled.disabled_reason).toContain(`${DISABLE_AFTER} consecutive failed deliveries`);
    expect(distinct("/up").every((r) => r.verified)).toBe(true);
    // Once disabled, new events of its project are not even written.
    await invoke("createCategory", noisy, { body: { name: "F" } });
    const pending = await db.select().from(webhookEvents).where(eq(webhookEvents.projectId, noisy.projectId));
    expect(pending).toHaveLength(5);
  });
});

describe("webhook redelivery", () => {
  it("redelivers an event with the same webhook-id", async () => {
    const { t, event, endpoint } = await categoryCreatedDelivered("/again");
    const id = endpoint.id;
    const other = await createTenant(db);
    const foreign = await invoke("redeliverWebhookEvent", other, {
      params: { webhook_id: id, event_id: event.id },
    });
    expect(foreign.status).toBe(404);
    // Another endpoint of the same project, not subscribed to the event's type: never sent it.
    const labelsOnly = await subscribe(t, "/labels-only", ["thread.labelled"], "ok");
    const unsubscribed = await invoke("redeliverWebhookEvent", t, {
      params: { webhook_id: labelsOnly, event_id: event.id },
    });
    expect(unsubscribed.status).toBe(404);
    expect(unsubscribed.body.detail).toMatch(/not one this endpoint receives/);
    expect((await invoke("redeliverWebhookEvent", t, { params: { webhook_id: id, event_id: event.id } })).status).toBe(
      503,
    ); // no webhook queue configured for the API handler in this file
    const before = receiver.received.filter((r) => r.path === "/again").length;
    await pipeline.deliveries.send([
      {
        eventId: event.id,
        endpointId: id,
        projectId: t.projectId,
        attempt: 1,
        url: receiver.endpoint("/again"),
        secrets: [endpoint.secret],
        type: "category.created",
        occurredAt: new Date().toISOString(),
        data: {},
      },
    ]);
    await pumpUntil(() => receiver.received.filter((r) => r.path === "/again").length > before);
    expect(distinct("/again")).toHaveLength(1);
  });

  it("posts nothing for a message changed on the queue (its seal does not open): the retry goes where the database says", async () => {
    const { t, event, endpoint } = await categoryCreatedDelivered("/sealed");
    const id = endpoint.id;
    const sealed = new MessageSeal(TEST_MESSAGE_KEY).seal(deliveryFor(event, endpoint));
    // Whoever reads the queue sees no secret; whoever sends to it without the key cannot aim one elsewhere.
    expect(JSON.stringify(sealed)).not.toContain(endpoint.secret.slice(6));
    await pipeline.deliveries.resend([{ ...sealed, url: receiver.endpoint("/thief") }]);
    const before = receiver.received.filter((r) => r.path === "/sealed").length;
    await pumpUntil(() => receiver.received.filter((r) => r.path === "/sealed").length > before);
    expect(receiver.counts.get("/thief")).toBeUndefined();
    expect(distinct("/sealed").map((r) => r.webhookId)).toEqual([event.id]);
    const log = await invoke("listWebhookDeliveries", t, { params: { webhook_id: id } });
    const errors = (log.body.results as { error: string | null }[]).map((a) => a.error);
    expect(errors.some((e) => e?.startsWith("not sent: the secrets' seal does not open"))).toBe(true);
  });
});
