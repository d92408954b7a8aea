/**
 * What the store knows about an API key, and the pure rules that decide whether it is usable now.
 * The record never holds the key itself: only its keyed hash and the pepper version used.
 */
import type { KeyEnvironment } from './api-key.js';
import type { Scope, ScopeCatalog } from './scopes.js';

export interface KeyRecord {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  /**
   * What the key may do, as created. The bootstrap admin key stores none: it holds every scope of the running
   * deployment at decision time ({@link effectiveScopes}), so routes added later are its too.
   */
  readonly scopes: readonly Scope[];
  readonly env: KeyEnvironment;
  /** HMAC-SHA256(pepper[pepperVersion], key), base64url. */
  readonly hash: string;
  readonly pepperVersion: string;
  /** Principal that created the key (for audit). */
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  /** When refusal starts: now for a revoke, now + grace for a rotation. */
  readonly revokedAt?: string;
  /** Set on a rotated key: the end of its grace period (equal to revokedAt) and its successor. */
  readonly graceUntil?: string;
  readonly rotatedTo?: string;
  readonly rotatedFrom?: string;
  /**
   * Set only on the bootstrap admin key (by ensureAdminKey, never through the API): cross-tenant audit reads.
   * Never derived from the tenant's name, which a token's claims could imitate.
   */
  readonly admin?: true;
  /** The key's plan (plans.ts); absent: the deployment's default plan (the admin plan for the bootstrap key). */
  readonly plan?: string;
}

export type KeyState = 'active' | 'expired' | 'revoked';

/**
 * The scopes a key holds now: every declared scope for the bootstrap admin key; otherwise its own, less any the
 * deployment no longer declares (a removed route group's scope grants nothing).
 */
export function effectiveScopes(record: Pick<KeyRecord, 'scopes' | 'admin'>, catalog: ScopeCatalog): readonly Scope[] {
  return record.admin === true ? catalog.all : catalog.sort(record.scopes);
}

/** Usability at `nowMs`. Revocation wins over expiry so audit reasons stay truthful. */
export function keyState(record: KeyRecord, nowMs: number): KeyState {
  // A time that does not parse (NaN) counts as already passed: a damaged record fails closed.
  if (record.revokedAt !== undefined && !(Date.parse(record.revokedAt) > nowMs)) return 'revoked';
  if (record.expiresAt !== undefined && !(Date.parse(record.expiresAt) > nowMs)) return 'expired';
  return 'active';
}

/** The instant the key stops being usable, if any: bounds how long a positive decision may be cached. */
export function keyUsableUntil(record: KeyRecord): number {
  const times = [record.revokedAt, record.expiresAt].filter((t): t is string => t !== undefined).map((t) => Date.parse(t));
  if (times.some((t) => Number.isNaN(t))) return -Infinity;
  return times.length === 0 ? Infinity : Math.min(...times);
}
