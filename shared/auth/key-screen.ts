import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { apiKeySigning, apiKeys } from "../db/schema.js";
import { type ParsedKey, signatureValid } from "./key-format.js";

/** Where the screen's two facts come from (the database; tests count the calls). */
export interface ScreenSource {
  signingSecret(): Promise<Buffer>;
  /** The prefixes of unrevoked legacy keys: a closed set, since legacy keys are no longer issued. */
  legacyPrefixes(): Promise<string[]>;
}

/** The signing secret, made (32 random bytes) by whoever needs it first. */
export async function signingSecret(db: Db): Promise<Buffer> {
  const read = () => db.select({ secret: apiKeySigning.secret }).from(apiKeySigning).where(eq(apiKeySigning.id, 1));
  let [row] = await read();
  if (!row) {
    await db
      .insert(apiKeySigning)
      .values({ id: 1, secret: randomBytes(32).toString("hex") })
      .onConflictDoNothing();
    [row] = await read();
  }
  if (!row) throw new Error("The API key signing secret could not be made");
  return Buffer.from(row.secret, "hex");
}

export function screenSource(db: Db): ScreenSource {
  return {
    signingSecret: () => signingSecret(db),
    legacyPrefixes: async () =>
      (
        await db
          .select({ prefix: apiKeys.prefix })
          .from(apiKeys)
          .where(and(eq(apiKeys.signed, false), eq(apiKeys.revoked, false)))
      ).map((r) => r.prefix),
  };
}

/**
 * The authorizer's check before any key lookup, per execution environment: a signed key must
 * carry the secret's MAC, a legacy key must have one of the legacy prefixes. Each costs one query
 * per environment (the legacy set again after `legacyTtlMs`, so revocations drop out); a value that
 * fails costs none, however many distinct ones arrive. The legacy set can only shrink, so a stale
 * copy costs at most a lookup of a revoked key's prefix, never a refusal of a valid key.
 */
export class KeyScreen {
  private secret: Promise<Buffer> | null = null;
  private legacy: { prefixes: Promise<Set<string>>; loadedAt: number } | null = null;

  constructor(
    private readonly source: ScreenSource,
    readonly legacyTtlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True when the key is worth a lookup. */
  async admits(key: ParsedKey): Promise<boolean> {
    if (key.format === "signed") return signatureValid(await this.signingSecret(), key);
    return (await this.legacyPrefixes()).has(key.prefix);
  }

  private signingSecret(): Promise<Buffer> {
    if (!this.secret) {
      const loading = this.source.signingSecret();
      this.secret = loading;
      // A failed load (the database down) is tried again by the next request, not remembered.
      loading.catch(() => {
        if (this.secret === loading) this.secret = null;
      });
    }
    return this.secret;
  }

  private legacyPrefixes(): Promise<Set<string>> {
    const now = this.clock();
    if (!this.legacy || now - this.legacy.loadedAt >= this.legacyTtlMs) {
      const prefixes = this.source.legacyPrefixes().then((list) => new Set(list));
      const entry = { prefixes, loadedAt: now };
      this.legacy = entry;
      prefixes.catch(() => {
        if (this.legacy === entry) this.legacy = null;
      });
    }
    return this.legacy.prefixes;
  }
}
