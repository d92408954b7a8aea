/**
 * API Gateway's authorizer result cache: one entry per set of identity values (per API and stage), kept for the
 * TTL. The cached result is the authorizer's WHOLE answer — principalId, policy and context — and its policy is
 * evaluated again against every later request's own methodArn. A policy that only allows the route that
 * happened to invoke the authorizer therefore 403s every other route until the entry expires.
 * Only well-formed results are cached (Allow or Deny alike); thrown errors are not.
 */
import type { ValidAuthorizerResult } from './authorizer-result.js';

export class AuthorizerResultCache {
  private readonly entries = new Map<string, { readonly result: ValidAuthorizerResult; readonly expiresAt: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries = 10_000,
  ) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  static keyOf(identityValues: readonly string[]): string {
    return JSON.stringify(identityValues);
  }

  get(key: string, nowMs: number): ValidAuthorizerResult | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.result;
  }

  set(key: string, result: ValidAuthorizerResult, nowMs: number): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, { result, expiresAt: nowMs + this.ttlSeconds * 1000 });
    // Oldest first (insertion order): drop the oldest when full.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
