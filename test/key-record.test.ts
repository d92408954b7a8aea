import { describe, expect, it } from 'vitest';
import { GATEHOUSE_API } from '../lambdas/routes.js';
import { DecisionCache } from '../lambdas/core/decision-cache.js';
import { keyState, keyUsableUntil, type KeyRecord } from '../lambdas/core/key-record.js';
import { principalFromKey } from '../lambdas/core/key-verifier.js';

const base: KeyRecord = {
  id: 'AbCdEfGhIjKl',
  tenant: 't',
  name: 'n',
  scopes: ['items:read'],
  env: 'test',
  hash: 'h',
  pepperVersion: '1',
  createdBy: 'x',
  createdAt: '2026-01-01T00:00:00.000Z',
};
const now = Date.parse('2026-06-01T00:00:00.000Z');

describe('key state', () => {
  it('revocation and expiry take effect at their instant; revocation wins', () => {
    expect(keyState(base, now)).toBe('active');
    expect(keyState({ ...base, revokedAt: new Date(now).toISOString() }, now)).toBe('revoked');
    expect(keyState({ ...base, revokedAt: new Date(now + 1).toISOString() }, now)).toBe('active');
    expect(keyState({ ...base, expiresAt: new Date(now - 1).toISOString(), revokedAt: new Date(now - 1).toISOString() }, now)).toBe('revoked');
    expect(keyState({ ...base, expiresAt: new Date(now).toISOString() }, now)).toBe('expired');
  });

  it('a damaged (unparseable) time fails closed, and never yields a cache entry that outlives it', () => {
    const damaged = { ...base, revokedAt: 'not-a-date' };
    expect(keyState(damaged, now)).toBe('revoked');
    expect(keyState({ ...base, expiresAt: 'soon' }, now)).toBe('expired');
    const cache = new DecisionCache({ maxEntries: 10, positiveTtlMs: 3000, negativeTtlMs: 1000, now: () => now });
    cache.set('k', { allow: true, principal: principalFromKey(base, GATEHOUSE_API.scopes) }, keyUsableUntil(damaged));
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', { allow: true, principal: principalFromKey(base, GATEHOUSE_API.scopes) }, Number.NaN);
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', { allow: true, principal: principalFromKey(base, GATEHOUSE_API.scopes) }, keyUsableUntil(base));
    expect(cache.get('k')).toBeDefined();
  });
});
