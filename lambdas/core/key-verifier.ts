/**
 * Verifies an API key: format and checksum (no I/O), then exactly one store read by the public id, then the
 * keyed hash compared in constant time, then the key's tenant (reserved or malformed: refused), revocation and
 * expiry. Every refusal has a reason
 * for the audit trail; callers answer all of them with the same 401.
 *
 * Same work on every path past the store read: an unknown id (or a record of the other environment, or one whose
 * pepper version is unknown) still computes one keyed hash and one constant-time comparison, against a dummy pepper
 * and hash, before it is refused. Otherwise an unknown id answered measurably sooner (~50–70 µs) than a wrong
 * secret for a known one, and response times would tell which key ids exist.
 */
import { randomBytes } from 'node:crypto';
import { parseApiKey, type KeyEnvironment } from './api-key.js';
import { SYSTEM_TENANT } from './audit.js';
import { hashApiKey, hashesEqual } from './key-hash.js';
import { effectiveScopes, keyState, keyUsableUntil, type KeyRecord } from './key-record.js';
import type { Principal } from './principal.js';
import type { ScopeCatalog } from './scopes.js';
import { isReservedTenant, tenantProblem } from './tenant.js';

export type KeyRefusal =
  | 'malformed'
  | 'bad_checksum'
  | 'wrong_environment'
  | 'unknown'
  | 'secret_mismatch'
  | 'reserved_tenant'
  | 'bad_tenant'
  | 'revoked'
  | 'expired';

export type KeyVerification =
  | { readonly ok: true; readonly record: KeyRecord; readonly principal: Principal; readonly usableUntilMs: number }
  | { readonly ok: false; readonly reason: KeyRefusal; readonly keyId?: string; readonly tenant?: string };

export interface KeyLookup {
  get(id: string): Promise<KeyRecord | undefined>;
}

export interface PepperLookup {
  pepperFor(version: string): Promise<Buffer | undefined>;
}

/** The keyed hash and its comparison (injectable so tests can count the work on each path). */
export interface KeyHashing {
  hash(key: string, pepper: Buffer): string;
  equal(a: string, b: string): boolean;
}

const KEY_HASHING: KeyHashing = { hash: hashApiKey, equal: hashesEqual };

/**
 * What an unknown id is hashed and compared against. The pepper is the length of a real one (≥ 32 bytes, and an
 * HMAC key up to the block size costs the same); the hash has the stored hashes' length (43 base64url characters),
 * so the comparison runs in full.
 */
const DUMMY_PEPPER = randomBytes(48);
const DUMMY_HASH = hashApiKey('gth_test_dummy', randomBytes(48));

/** Tenant of the bootstrap admin key. The name confers nothing: only the record's `admin` flag does. */
export const ADMIN_TENANT = 'admin';

/**
 * Whether a key record's tenant is one no key may act in. Keys are created by principals, and the reserved tenants
 * (anonymous, _system, public, iam, in any case or compatibility form) belong to principals that must never hold a
 * key — such a record could only come from an earlier bug or a hand edit. `admin` is the bootstrap key's own tenant
 * (exactly that spelling): its keys are legitimate.
 */
export function isReservedKeyTenant(tenant: string): boolean {
  return tenant !== ADMIN_TENANT && isReservedTenant(tenant);
}

export function principalFromKey(record: KeyRecord, catalog: ScopeCatalog): Principal {
  return {
    principalId: `key:${record.id}`,
    authMethod: 'api_key',
    tenant: record.tenant,
    scopes: effectiveScopes(record, catalog),
    keyId: record.id,
    admin: record.admin === true,
    ...(record.plan === undefined ? {} : { plan: record.plan }),
  };
}

export class ApiKeyVerifier {
  private readonly hashing: KeyHashing;

  constructor(
    private readonly deps: {
      store: KeyLookup;
      peppers: PepperLookup;
      environment: KeyEnvironment;
      /** The deployment's scopes: what a key's stored scopes (and the admin key) amount to now. */
      scopes: ScopeCatalog;
      now?: () => number;
      keyHash?: KeyHashing;
    },
  ) {
    this.hashing = deps.keyHash ?? KEY_HASHING;
  }

  async verify(key: string): Promise<KeyVerification> {
    const parsed = parseApiKey(key);
    if (!parsed.ok) return parsed.id === undefined ? { ok: false, reason: parsed.reason } : { ok: false, reason: parsed.reason, keyId: parsed.id };
    const { id, env } = parsed.value;
    // Public facts of the key's text (its prefix), not of the store: no read, and nothing to time.
    if (env !== this.deps.environment) return { ok: false, reason: 'wrong_environment', keyId: id };

    const found = await this.deps.store.get(id);
    const record = found && found.env === env ? found : undefined;
    const pepper = record ? await this.deps.peppers.pepperFor(record.pepperVersion) : undefined;
    // One keyed hash and one constant-time comparison whatever the store said (see the module comment).
    const matches = this.hashing.equal(this.hashing.hash(key, pepper ?? DUMMY_PEPPER), record && pepper ? record.hash : DUMMY_HASH);
    if (!record) return { ok: false, reason: 'unknown', keyId: id };
    // The owner is reported for the audit trail (it should see attempts on its keys), never to the client. A
    // reserved tenant has no owner to tell, and a malformed one (written before tenant.ts existed) may not even fit
    // in an audit partition key: attempts on such keys go to the administrators' system tenant.
    const reserved = isReservedKeyTenant(record.tenant);
    const malformed = tenantProblem(record.tenant) !== undefined;
    const owner = reserved || malformed ? SYSTEM_TENANT : record.tenant;
    if (!pepper || !matches) return { ok: false, reason: 'secret_mismatch', keyId: id, tenant: owner };
    if (reserved) return { ok: false, reason: 'reserved_tenant', keyId: id, tenant: owner };
    // The handlers would refuse this tenant anyway (principalFromContext); refusing here keeps the answer a 401
    // with an audit event rather than an Allow that every handler then turns away.
    if (malformed) return { ok: false, reason: 'bad_tenant', keyId: id, tenant: owner };

    const state = keyState(record, (this.deps.now ?? Date.now)());
    if (state !== 'active') return { ok: false, reason: state, keyId: id, tenant: owner };
    return { ok: true, record, principal: principalFromKey(record, this.deps.scopes), usableUntilMs: keyUsableUntil(record) };
  }
}
