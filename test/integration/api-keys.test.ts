import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createProject } from "../../shared/admin/tenants.js";
import { authenticateKey, createApiKey, revokeApiKey } from "../../shared/auth/api-keys.js";
import { apiKeys } from "../../shared/db/schema.js";
import { NotFoundError } from "../../shared/platform/errors.js";
import { createTenant, useTestDb } from "../support/db.js";

const db = useTestDb();

describe("API keys in the database", () => {
  it("stores prefix and hash only, and authenticates the key for its projects", async () => {
    const tenant = await createTenant(db);
    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, tenant.apiKeyId));
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(tenant.apiKey);
    expect(await authenticateKey(db, tenant.apiKey)).toEqual({
      apiKeyId: tenant.apiKeyId,
      projectIds: [tenant.projectId],
    });
  });

  it("grants several projects to one key", async () => {
    const tenant = await createTenant(db);
    const second = await createProject(db, { teamId: tenant.teamId, name: "second" });
    const key = await createApiKey(db, { name: "both", projectIds: [tenant.projectId, second.id] });
    const auth = await authenticateKey(db, key.key);
    expect(auth?.projectIds.sort()).toEqual([tenant.projectId, second.id].sort());
  });

  it("refuses a wrong secret with a known prefix, garbage, revoked and expired keys alike", async () => {
    const tenant = await createTenant(db);
    const tampered = `${tenant.apiKey.slice(0, -1)}${tenant.apiKey.endsWith("A") ? "B" : "A"}`;
    expect(await authenticateKey(db, tampered)).toBeNull();
    expect(await authenticateKey(db, "garbage")).toBeNull();

    const expiring = await createApiKey(db, {
      name: "soon",
      projectIds: [tenant.projectId],
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(await authenticateKey(db, expiring.key)).not.toBeNull();
    expect(await authenticateKey(db, expiring.key, new Date(Date.now() + 120_000))).toBeNull();

    await revokeApiKey(db, tenant.apiKeyId);
    expect(await authenticateKey(db, tenant.apiKey)).toBeNull();
  });

  it("rejects keys for unknown projects and revoking unknown keys", async () => {
    await expect(createApiKey(db, { name: "x", projectIds: ["00000000-0000-4000-8000-000000000000"] })).rejects.toThrow(
      NotFoundError,
    );
    await expect(revokeApiKey(db, "00000000-0000-4000-8000-000000000000")).rejects.toThrow(NotFoundError);
  });
});

describe("API key fixes found by the CLI", () => {
  it("accepts a project id in upper case, stored as Postgres prints it", async () => {
    const tenant = await createTenant(db);
    const key = await createApiKey(db, { name: "upper", projectIds: [tenant.projectId.toUpperCase()] });
    expect(key.projectIds).toEqual([tenant.projectId]);
    expect((await authenticateKey(db, key.key))?.projectIds).toEqual([tenant.projectId]);
  });

  it("keeps the first revocation's time and says the key was already revoked", async () => {
    const tenant = await createTenant(db);
    const first = await revokeApiKey(db, tenant.apiKeyId);
    expect(first.alreadyRevoked).toBe(false);
    const again = await revokeApiKey(db, tenant.apiKeyId);
    expect(again).toEqual({ id: tenant.apiKeyId, revokedAt: first.revokedAt, alreadyRevoked: true });
  });
});
