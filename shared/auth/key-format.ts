import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The two shapes of our API keys. Both are `kapa…_<prefix>_<43 base64url characters>`, where the
 * prefix is 12 hex digits (48 random bits, the row's lookup id):
 *
 * - signed (issued now), `kapa2_`: the 32 bytes after the prefix are 20 random bytes and a 12-byte
 *   HMAC-SHA256 of the prefix and those bytes under the server's signing secret. The authorizer
 *   refuses a forged value with no database lookup; to anyone without the secret a forgery looks
 *   exactly like a key (2^-96 chance to pass).
 * - legacy, `kapa_`: 32 random bytes, issued before signing existed. Still accepted; since no new
 *   ones are made, their prefixes are a closed set the authorizer screens against (./key-screen.ts).
 *
 * The MAC is a filter, not the authentication: a key is valid only if its hash matches a row.
 */

export type KeyFormat = "signed" | "legacy";

const PATTERN = /^kapa(2?)_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const RANDOM_BYTES = 20;
const MAC_BYTES = 12;

/**
 * The shape of every key we issue or issued, as a regular expression without groups: the WAF
 * rules (infra/constructs/waf.ts) refuse other values at the edge with it.
 */
export const API_KEY_SHAPE = PATTERN.source.replace(/[()]/g, "");

export interface ParsedKey {
  format: KeyFormat;
  prefix: string;
  /** The 32 bytes after the prefix. */
  body: Buffer;
}

/** The key's format and prefix, or null when the value cannot be a key of ours. */
export function parseKey(raw: string): ParsedKey | null {
  const match = PATTERN.exec(raw);
  if (!match) return null;
  const [, version, prefix, body] = match as unknown as [string, string, string, string];
  return { format: version === "2" ? "signed" : "legacy", prefix, body: Buffer.from(body, "base64url") };
}

function macOf(secret: Buffer, prefix: string, random: Buffer): Buffer {
  return createHmac("sha256", secret).update(`kapa2_${prefix}_`).update(random).digest().subarray(0, MAC_BYTES);
}

/** A new signed key and its prefix. */
export function signedKey(secret: Buffer): { key: string; prefix: string } {
  const prefix = randomBytes(6).toString("hex");
  const random = randomBytes(RANDOM_BYTES);
  const body = Buffer.concat([random, macOf(secret, prefix, random)]);
  return { key: `kapa2_${prefix}_${body.toString("base64url")}`, prefix };
}

/** Whether a signed key's MAC is the secret's (constant time); false for a legacy key. */
export function signatureValid(secret: Buffer, key: ParsedKey): boolean {
  if (key.format !== "signed" || key.body.length !== RANDOM_BYTES + MAC_BYTES) return false;
  const random = key.body.subarray(0, RANDOM_BYTES);
  return timingSafeEqual(key.body.subarray(RANDOM_BYTES), macOf(secret, key.prefix, random));
}
