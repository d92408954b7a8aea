/**
 * The bootstrap admin key (contract §2): tenant `admin`, every scope of the running deployment. Its record stores
 * no scopes: `admin: true` is what grants them, at decision time (key-record.ts effectiveScopes), so a route group
 * added after the key was made is the admin's too. Idempotent: a key that still verifies is kept, so re-running a
 * deploy or `npm start --persist` does not mint a new admin key each time.
 */
import { parseApiKey, type KeyEnvironment } from './api-key.js';
import { issueKey, type KeyIssuerDeps } from './key-issuer.js';
import { keyState, type KeyRecord } from './key-record.js';
import { ADMIN_TENANT, ApiKeyVerifier, type KeyLookup, type PepperLookup } from './key-verifier.js';
import type { ScopeCatalog } from './scopes.js';

export const BOOTSTRAP_KEY_NAME = 'bootstrap admin';

export interface BootstrapDeps extends KeyIssuerDeps {
  readonly store: KeyIssuerDeps['store'] & KeyLookup;
  readonly peppers: KeyIssuerDeps['peppers'] & PepperLookup;
  readonly environment: KeyEnvironment;
  readonly scopes: ScopeCatalog;
}

export async function ensureAdminKey(deps: BootstrapDeps, existing?: string): Promise<{ key: string; record: KeyRecord; created: boolean }> {
  if (existing) {
    const verifier = new ApiKeyVerifier({ store: deps.store, peppers: deps.peppers, environment: deps.environment, scopes: deps.scopes, ...(deps.now ? { now: deps.now } : {}) });
    const result = await verifier.verify(existing);
    if (result.ok && result.record.admin === true) return { key: existing, record: result.record, created: false };
  }
  const { key, record } = await issueKey(deps, { tenant: ADMIN_TENANT, name: BOOTSTRAP_KEY_NAME, scopes: [], createdBy: 'bootstrap', admin: true });
  return { key, record, created: true };
}

/**
 * The active admin key that replaced `key` through rotation, if any. After `POST /v1/keys/{id}/rotate` on the
 * bootstrap key, the secret still holds the predecessor: a redeploy must not mint a second admin key beside the
 * live successor (whose plaintext only its rotator has).
 */
export async function activeAdminSuccessor(store: KeyLookup, key: string, nowMs: number = Date.now()): Promise<KeyRecord | undefined> {
  const parsed = parseApiKey(key);
  if (!parsed.ok) return undefined;
  let record = await store.get(parsed.value.id);
  for (let hops = 0; record?.rotatedTo !== undefined && hops < 20; hops++) {
    record = await store.get(record.rotatedTo);
    if (record?.admin === true && keyState(record, nowMs) === 'active') return record;
  }
  return undefined;
}
