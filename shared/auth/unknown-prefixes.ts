import type { PrefixMemory } from "./api-keys.js";

/**
 * The authorizer's negative cache: key prefixes that no key had when last looked up, at most
 * `maxEntries` (the oldest is forgotten first) and each for `ttlMs`. Junk keys that look valid
 * then cost one database lookup per prefix and period, however often they are repeated.
 *
 * Safe because a prefix is 48 random bits chosen when a key is created: a prefix remembered as
 * unknown becomes a real key's only by chance (about one in 2^48 per key). What it cannot bound
 * is junk with a new prefix each time; that is bounded by the stage's throttling (and, in AWS,
 * by the WAF rule per key value where it is on).
 */
export class UnknownPrefixes implements PrefixMemory {
  private readonly expiries = new Map<string, number>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    if (maxEntries < 1) throw new Error("UnknownPrefixes needs room for at least one prefix");
  }

  has(prefix: string): boolean {
    const expires = this.expiries.get(prefix);
    if (expires === undefined) return false;
    if (expires > this.clock()) return true;
    this.expiries.delete(prefix);
    return false;
  }

  add(prefix: string): void {
    this.expiries.delete(prefix);
    if (this.expiries.size >= this.maxEntries) {
      this.expiries.delete(this.expiries.keys().next().value as string);
    }
    this.expiries.set(prefix, this.clock() + this.ttlMs);
  }

  get size(): number {
    return this.expiries.size;
  }
}
