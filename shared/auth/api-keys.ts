import { createHash, timingSafeEqual } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { apiKeyProjects, apiKeys, projects } from "../db/schema.js";
import { InvalidInputError, NotFoundError } from "../platform/errors.js";
import { parseKey, signedKey } from "./key-format.js";
import { signingSecret } from "./key-screen.js";

export interface GeneratedKey {
  key: string;
  prefix: string;
  hash: string;
}

/** A key has at least 160 random bits: a fast hash is enough (nothing to brute-force), unlike a password. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A new key in the signed format (./key-format.ts) under `secret`. */
export function generateKey(secret: Buffer): GeneratedKey {
  const { key, prefix } = signedKey(secret);
  return { key, prefix, hash: hashKey(key) };
}

export interface AuthenticatedKey {
  apiKeyId: string;
  projectIds: string[];
}

// Compared against when no key has the prefix, so a miss takes as long as a wrong secret.
const DECOY_HASH = hashKey("kapa_000000000000_decoy");

function sameHash(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

/** One row per project the key is granted (one row with a null project when none). */
export interface KeyRow {
  id: string;
  hash: string;
  revoked: boolean;
  expiresAt: Date | null;
  projectId: string | null;
}

/** Finds the key rows of a prefix: the one database lookup of an authentication. */
export type KeyLookup = (prefix: string) => Promise<KeyRow[]>;

export function keyLookup(db: Db): KeyLookup {
  return (prefix) =>
    db
      .select({
        id: apiKeys.id,
        hash: apiKeys.hash,
        revoked: apiKeys.revoked,
        expiresAt: apiKeys.expiresAt,
        projectId: apiKeyProjects.projectId,
      })
      .from(apiKeys)
      .leftJoin(apiKeyProjects, eq(apiKeyProjects.apiKeyId, apiKeys.id))
      .where(eq(apiKeys.prefix, prefix));
}

/**
 * Resolves a raw `X-API-KEY` value to the key and the projects it is granted, or null for any
 * failure (malformed, unknown, revoked, expired): callers must not tell these apart. A value of
 * the wrong shape costs no lookup; the authorizer screens the rest first (./key-screen.ts).
 */
export async function authenticateWith(
  lookup: KeyLookup,
  raw: string,
  now = new Date(),
): Promise<AuthenticatedKey | null> {
  const prefix = parseKey(raw)?.prefix;
  if (!prefix) return null;
  const rows = await lookup(prefix);
  const key = rows[0];
  const hashMatches = sameHash(key?.hash ?? DECOY_HASH, hashKey(raw));
  if (!key || !hashMatches || key.revoked) return null;
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return null;
  const projectIds = rows.flatMap((r) => (r.projectId ? [r.projectId] : []));
  return { apiKeyId: key.id, projectIds };
}

export function authenticateKey(db: Db, raw: string, now = new Date()): Promise<AuthenticatedKey | null> {
  return authenticateWith(keyLookup(db), raw, now);
}

export interface CreateKeyInput {
  name: string;
  projectIds: string[];
  expiresAt?: Date;
}

export interface CreatedKey {
  id: string;
  prefix: string;
  key: string;
  name: string;
  projectIds: string[];
  expiresAt: Date | null;
}

export async function createApiKey(db: Db, input: CreateKeyInput): Promise<CreatedKey> {
  // Postgres prints uuids lowercase: compare (and store) them so, whatever the caller's spelling.
  const projectIds = [...new Set(input.projectIds.map((id) => id.toLowerCase()))];
  if (projectIds.length === 0) throw new InvalidInputError("A key needs at least one project");
  if (!input.name.trim()) throw new InvalidInputError("A key needs a name");
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new InvalidInputError("expires-at must be in the future");
  }
  const generated = generateKey(await signingSecret(db));
  return db.transaction(async (tx) => {
    const found = await tx.select({ id: projects.id }).from(projects).where(inArray(projects.id, projectIds));
    const missing = projectIds.filter((id) => !found.some((p) => p.id === id));
    if (missing.length > 0) throw new NotFoundError(`No project with id ${missing.join(", ")}`);
    const [row] = await tx
      .insert(apiKeys)
      .values({
        name: input.name.trim(),
        prefix: generated.prefix,
        hash: generated.hash,
        signed: true,
        expiresAt: input.expiresAt,
      })
      .returning({ id: apiKeys.id, expiresAt: apiKeys.expiresAt });
    if (!row) throw new Error("insert returned no row");
    await tx.insert(apiKeyProjects).values(projectIds.map((projectId) => ({ apiKeyId: row.id, projectId })));
    return {
      id: row.id,
      prefix: generated.prefix,
      key: generated.key,
      name: input.name.trim(),
      projectIds,
      expiresAt: row.expiresAt,
    };
  });
}

/** Revokes a key; revoking it again changes nothing (the first revocation's time stays). */
export async function revokeApiKey(
  db: Db,
  keyId: string,
): Promise<{ id: string; revokedAt: Date; alreadyRevoked: boolean }> {
  const [row] = await db
    .update(apiKeys)
    .set({ revoked: true, revokedAt: new Date() })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.revoked, false)))
    .returning({ id: apiKeys.id, revokedAt: apiKeys.revokedAt });
  if (row?.revokedAt) return { id: row.id, revokedAt: row.revokedAt, alreadyRevoked: false };
  const [existing] = await db
    .select({ id: apiKeys.id, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(eq(apiKeys.id, keyId));
  if (!existing) throw new NotFoundError(`No API key with id ${keyId}`);
  // A key revoked before revoked_at existed has none: now is the best we know.
  return { id: existing.id, revokedAt: existing.revokedAt ?? new Date(), alreadyRevoked: true };
}

export async function listApiKeys(db: Db) {
  const rows = await db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      revoked: apiKeys.revoked,
      expiresAt: apiKeys.expiresAt,
      createdAt: apiKeys.createdAt,
      projectId: apiKeyProjects.projectId,
    })
    .from(apiKeys)
    .leftJoin(apiKeyProjects, eq(apiKeyProjects.apiKeyId, apiKeys.id))
    .orderBy(apiKeys.createdAt, apiKeys.id);
  const byId = new Map<string, Omit<(typeof rows)[number], "projectId"> & { projectIds: string[] }>();
  for (const { projectId, ...key } of rows) {
    const entry = byId.get(key.id) ?? { ...key, projectIds: [] };
    if (projectId) entry.projectIds.push(projectId);
    byId.set(key.id, entry);
  }
  return [...byId.values()];
}
