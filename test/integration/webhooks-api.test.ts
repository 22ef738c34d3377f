import { describe, expect, it } from "vitest";
import { MAX_ENDPOINTS_PER_PROJECT } from "../../shared/webhooks/model.js";
import { createTenant, useTestDb } from "../support/db.js";
import { invoke } from "../support/invoke.js";

const db = useTestDb();
// A public address as a literal: no DNS needed to accept it.
const PUBLIC_URL = "https://93.184.215.14/hooks/kapa";

async function createWebhook(tenant: Awaited<ReturnType<typeof createTenant>>, body: Record<string, unknown> = {}) {
  return invoke("createWebhook", tenant, { body: { url: PUBLIC_URL, events: ["thread.labelled"], ...body } });
}

describe("webhooks API", () => {
  it("creates an endpoint with a secret shown once, lists, reads, updates and deletes it", async () => {
    const t = await createTenant(db);
    const created = await createWebhook(t, { description: "CRM sync" });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(created.body).toMatchObject({ url: PUBLIC_URL, events: ["thread.labelled"], enabled: true });
    const id = created.body.id as string;

    const list = await invoke("listWebhooks", t);
    expect(list.status).toBe(200);
    expect(list.body.results).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain("whsec_");
    const one = await invoke("getWebhook", t, { params: { webhook_id: id } });
    expect(one.body).toMatchObject({ id, description: "CRM sync", disabled_reason: null });
    expect(one.body.secret).toBeUndefined();

    const patched = await invoke("updateWebhook", t, {
      params: { webhook_id: id },
      body: { events: ["category.created", "category.deleted"], enabled: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ["category.created", "category.deleted"], enabled: false });

    expect((await invoke("deleteWebhook", t, { params: { webhook_id: id } })).status).toBe(204);
    expect((await invoke("getWebhook", t, { params: { webhook_id: id } })).status).toBe(404);
  });

  it("rotates the secret: a new one, the old one signing for 24 more hours", async () => {
    const t = await createTenant(db);
    const created = await createWebhook(t);
    const rotated = await invoke("rotateWebhookSecret", t, { params: { webhook_id: created.body.id as string } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const expires = Date.parse(rotated.body.previous_secret_expires_at as string);
    const hours = (expires - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
  });

  it(`refuses an endpoint beyond ${MAX_ENDPOINTS_PER_PROJECT} a project with 409, in that project only`, async () => {
    const noisy = await createTenant(db);
    const quiet = await createTenant(db);
    for (let i = 0; i < MAX_ENDPOINTS_PER_PROJECT; i++) expect((await createWebhook(noisy)).status).toBe(201);
    const refused = await createWebhook(noisy);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(String(MAX_ENDPOINTS_PER_PROJECT));
    expect((await createWebhook(quiet)).status).toBe(201);
  });

  it("answers 404 for another project's endpoint, on every route", async () => {
    const owner = await createTenant(db);
    const other = await createTenant(db);
    const id = (await createWebhook(owner)).body.id as string;
    const params = { webhook_id: id };
    expect((await invoke("getWebhook", other, { params })).status).toBe(404);
    expect((await invoke("updateWebhook", other, { params, body: { enabled: false } })).status).toBe(404);
    expect((await invoke("rotateWebhookSecret", other, { params })).status).toBe(404);
    expect((await invoke("listWebhookDeliveries", other, { params })).status).toBe(404);
    expect((await invoke("deleteWebhook", other, { params })).status).toBe(404);
    expect((await invoke("listWebhooks", other)).body.results).toEqual([]);
    expect((await invoke("getWebhook", owner, { params })).status).toBe(200);
  });
});

describe("webhooks API refuses bad input with 400", () => {
  it.each([
    ["http://93.184.215.14/hook", "https"],
    ["https://127.0.0.1/hook", "loopback"],
    ["https://10.1.2.3/hook", "private"],
    ["https://169.254.169.254/latest/meta-data/", "linkLocal"],
    ["https://[::ffff:169.254.169.254]/", "linkLocal"],
    ["https://[::1]/", "loopback"],
    ["https://[fd00::1]/", "uniqueLocal"],
    ["https://224.0.0.1/", "multicast"],
    ["https://240.0.0.1/", "reserved"],
    ["https://user:pw@93.184.215.14/", "credentials"],
    ["ftp://93.184.215.14/", "scheme"],
    ["not a url", "absolute"],
  ])("refuses %s with a 400 that says why (%s)", async (url, why) => {
    const t = await createTenant(db);
    const reply = await createWebhook(t, { url });
    expect(reply.status).toBe(400);
    expect(String(reply.body.detail)).toContain(why);
    expect((await invoke("listWebhooks", t)).body.results).toEqual([]);
  });

  it("validates bodies: unknown event types, no events, unknown fields, an empty PATCH", async () => {
    const t = await createTenant(db);
    expect((await createWebhook(t, { events: ["thread.deleted"] })).status).toBe(400);
    expect((await createWebhook(t, { events: [] })).status).toBe(400);
    expect((await createWebhook(t, { secret: "whsec_mine" })).status).toBe(400);
    const id = (await createWebhook(t)).body.id as string;
    const empty = await invoke("updateWebhook", t, { params: { webhook_id: id }, body: {} });
    expect(empty.status).toBe(400);
    const bad = await invoke("updateWebhook", t, { params: { webhook_id: id }, body: { url: "https://10.0.0.1/" } });
    expect(bad.status).toBe(400);
    expect(
      (await invoke("listWebhookDeliveries", t, { params: { webhook_id: id }, query: { cursor: "x" } })).status,
    ).toBe(400);
  });
});
