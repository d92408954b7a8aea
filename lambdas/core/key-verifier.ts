/**
 * Verifies an API key: format and checksum (no I/O), then exactly one store read by the public id, then the
 * keyed hash compared in constant time, then revocation and expiry. Every refusal has a reason for the audit
 * trail; callers answer all of them with the same 401.
 */
import { parseApiKey, type KeyEnvironment } from './api-key.js';
import { hashApiKey, hashesEqual } from './key-hash.js';
import { keyState, keyUsableUntil, type KeyRecord } from './key-record.js';
import type { Principal } from './principal.js';

export type KeyRefusal = 'malformed' | 'bad_checksum' | 'wrong_environment' | 'unknown' | 'secret_mismatch' | 'revoked' | 'expired';

export type KeyVerification =
  | { readonly ok: true; readonly record: KeyRecord; readonly principal: Principal; readonly usableUntilMs: number }
  | { readonly ok: false; readonly reason: KeyRefusal; readonly keyId?: string; readonly tenant?: string };

export interface KeyLookup {
  get(id: string): Promise<KeyRecord | undefined>;
}

export interface PepperLookup {
  pepperFor(version: string): Promise<Buffer | undefined>;
}

/** Tenant of the bootstrap admin key. The name confers nothing: only the record's `admin` flag does. */
export const ADMIN_TENANT = 'admin';

export function principalFromKey(record: KeyRecord): Principal {
  return {
    principalId: `key:${record.id}`,
    authMethod: 'api_key',
    tenant: record.tenant,
    scopes: record.scopes,
    keyId: record.id,
    admin: record.admin === true,
  };
}

export class ApiKeyVerifier {
  constructor(
    private readonly deps: { store: KeyLookup; peppers: PepperLookup; environment: KeyEnvironment; now?: () => number },
  ) {}

  async verify(key: string): Promise<KeyVerification> {
    const parsed = parseApiKey(key);
    if (!parsed.ok) return parsed.id === undefined ? { ok: false, reason: parsed.reason } : { ok: false, reason: parsed.reason, keyId: parsed.id };
    const { id, env } = parsed.value;
    if (env !== this.deps.environment) return { ok: false, reason: 'wrong_environment', keyId: id };

    const record = await this.deps.store.get(id);
    if (!record || record.env !== env) return { ok: false, reason: 'unknown', keyId: id };
    const pepper = await this.deps.peppers.pepperFor(record.pepperVersion);
    // The tenant is reported for the audit trail (its owner should see attempts on its keys), never to the client.
    if (!pepper || !hashesEqual(hashApiKey(key, pepper), record.hash)) return { ok: false, reason: 'secret_mismatch', keyId: id, tenant: record.tenant };

    const state = keyState(record, (this.deps.now ?? Date.now)());
    if (state !== 'active') return { ok: false, reason: state, keyId: id, tenant: record.tenant };
    return { ok: true, record, principal: principalFromKey(record), usableUntilMs: keyUsableUntil(record) };
  }
}
