/**
 * The authorizer's in-container cache of decisions, keyed by SHA-256 of the credential (never the credential
 * itself, so a heap dump holds no usable secret). Bounded (LRU). A positive entry lives at most the configured
 * TTL (≤ 5 s: the revocation window) and never past the credential's own expiry or revocation time; a negative
 * entry lives the shorter negative TTL, so a mistyped key is not re-read from the store on every retry.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

export type CachedDecision =
  | { readonly allow: true; readonly principal: Principal }
  | { readonly allow: false; readonly reason: string; readonly keyId?: string; readonly tenant?: string };

export interface DecisionCacheOptions {
  readonly maxEntries: number;
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly now?: () => number;
}

interface Entry {
  readonly decision: CachedDecision;
  readonly expiresAt: number;
}

export function credentialCacheKey(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url');
}

export class DecisionCache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly now: () => number;

  constructor(private readonly options: DecisionCacheOptions) {
    this.lru = new LRUCache({ max: options.maxEntries });
    this.now = options.now ?? Date.now;
  }

  get(key: string): CachedDecision | undefined {
    const entry = this.lru.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return entry.decision;
  }

  /** `notAfterMs` bounds a positive entry by the credential's own end of life. */
  set(key: string, decision: CachedDecision, notAfterMs = Infinity): void {
    const ttl = decision.allow ? this.options.positiveTtlMs : this.options.negativeTtlMs;
    const expiresAt = Math.min(this.now() + ttl, notAfterMs);
    // `!(a > b)` rather than `a <= b`: a NaN bound (a damaged record) must not make an entry that never expires.
    if (ttl <= 0 || !(expiresAt > this.now())) return;
    this.lru.set(key, { decision, expiresAt });
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}
