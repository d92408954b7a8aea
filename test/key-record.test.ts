import { describe, expect, it } from 'vitest';
import { GATEHOUSE_API } from '../lambdas/routes.js';
import { DecisionCache } from '../lambdas/core/decision-cache.js';
import { effectiveScopes, keyState, keyUsableUntil, type KeyRecord } from '../lambdas/core/key-record.js';
import { principalFromKey } from '../lambdas/core/key-verifier.js';
import { extendGatehouseApp } from '../lambdas/app.js';

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

describe('issue 12: what a key holds is decided against the running deployment', () => {
  const extended = extendGatehouseApp({
    scopes: { 'reports:read': { description: 'Read reports', groups: ['users'] } },
    routes: [{ method: 'GET', path: '/v1/reports', handler: 'reports', auth: 'token', scope: 'reports:read', summary: 'List reports' }],
  }).api.scopes;
  const record = { id: 'AAAAAAAAAAAA', tenant: 'admin', name: 'bootstrap admin', env: 'test' as const, hash: 'h', pepperVersion: 'v1', createdBy: 'bootstrap', createdAt: '2026-01-01T00:00:00.000Z' };

  it('the bootstrap admin key holds every scope of the running deployment, whatever list it was stored with (a persisted or deployed key gains new route groups)', () => {
    const legacyAdmin = { ...record, admin: true as const, scopes: ['keys:read', 'keys:write', 'items:read', 'items:write', 'usage:read', 'audit:read'] };
    expect(effectiveScopes(legacyAdmin, extended)).toEqual(extended.all);
    expect(effectiveScopes(legacyAdmin, extended)).toContain('reports:read');
    expect(effectiveScopes({ ...record, admin: true, scopes: [] }, extended)).toEqual(extended.all);
  });

  it("another key holds its own scopes only, less any the deployment no longer declares", () => {
    expect(effectiveScopes({ ...record, scopes: ['reports:read', 'items:read'] }, extended)).toEqual(['items:read', 'reports:read']);
    expect(effectiveScopes({ ...record, scopes: ['reports:read', 'items:read'] }, GATEHOUSE_API.scopes)).toEqual(['items:read']);
  });
});
