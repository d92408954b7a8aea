/**
 * Tenancy and privilege through real HTTP: the local stack (gateway + authorizer + handlers + dynalite + OIDC).
 *
 * Tenants: alice (group admins, a person: tenant = her sub), bob (group users), the machine client (tenant = its
 * client id) and the bootstrap admin key (tenant `admin`). Each owns a key and an item. Every route of the route
 * table that names a resource is called by every other tenant's credentials with the owner's ids: 404, exactly
 * like an id that does not exist, and nothing changes. Then the escalation attempts.
 */
import { ALL_SCOPES, GATEHOUSE_API } from '../../lambdas/routes.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { ROUTES } from '../../lambdas/routes.js';
import { ALL_REQUESTED, call, machineToken, personToken, startTestStack, type Credential, type Reply } from './support/http.js';

let stack: LocalStack;
interface Tenant {
  readonly name: string;
  /** Credentials that act for this tenant. */
  readonly credentials: Record<string, Credential>;
  keyId: string;
  key: string;
  itemId: string;
}
const tenants: Tenant[] = [];
const figures = { matrixRequests: 0, escalationAttempts: 0 };

const problem = (r: Reply) => ({ status: r.status, type: r.headers.get('content-type'), code: r.json?.code, detail: r.json?.detail });

beforeAll(async () => {
  stack = await startTestStack({ GATEHOUSE_RATE_LIMIT_PER_IP: '1000000', GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: '1000000', GATEHOUSE_THROTTLE_RATE_LIMIT: '10000', GATEHOUSE_THROTTLE_BURST_LIMIT: '5000' });
  const [alice, bob, machine] = await Promise.all([
    personToken(stack, 'alice', ALL_REQUESTED),
    personToken(stack, 'bob', ALL_REQUESTED),
    machineToken(stack, [...ALL_SCOPES]),
  ]);
  const base: [string, Record<string, Credential>][] = [
    ['alice (admins)', { token: { token: alice } }],
    ['bob (users)', { token: { token: bob } }],
    ['machine client', { token: { token: machine } }],
    ['bootstrap admin', { key: { key: stack.config.adminKey } }],
  ];
  for (const [name, credentials] of base) {
    const creator = Object.values(credentials)[0];
    const key = await call<{ id: string; key: string }>(stack, 'POST', '/v1/keys', { credential: creator, body: { name: `${name} key`, scopes: GATEHOUSE_API.scopes.forGroups(['users']) } });
    expect(key.status, key.text).toBe(201);
    const item = await call<{ id: string }>(stack, 'POST', '/v1/items', { credential: creator, body: { name: `${name} item`, data: { owner: name } } });
    expect(item.status, item.text).toBe(201);
    // The tenant's own API key acts for the tenant too.
    tenants.push({ name, credentials: { ...credentials, 'its API key': { key: key.json.key } }, keyId: key.json.id, key: key.json.key, itemId: item.json.id });
  }
}, 60_000);

afterAll(async () => {
  await stack?.close();
  console.log(`\nTenancy over HTTP: ${figures.matrixRequests} cross-tenant requests (all 404, nothing changed), ${figures.escalationAttempts} escalation attempts (all refused)`);
});

/** What the owner has, as the owner sees it: must be identical before and after the intruders. */
async function snapshot(t: Tenant) {
  const owner = Object.values(t.credentials)[0];
  const key = await call(stack, 'GET', `/v1/keys/${t.keyId}`, { credential: owner });
  const item = await call(stack, 'GET', `/v1/items/${t.itemId}`, { credential: owner });
  const works = await call(stack, 'GET', '/v1/whoami', { credential: { key: t.key } });
  return { key: key.json, item: item.json, etag: item.headers.get('etag'), keyWorks: works.status };
}

const RESOURCE_ROUTES = ROUTES.filter((r) => r.auth === 'token' && r.path.includes('{'));

describe('the cross-tenant matrix over real HTTP', () => {
  it('covers every route of the route table that names a resource', () => {
    expect(RESOURCE_ROUTES.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/keys/{keyId}',
      'DELETE /v1/keys/{keyId}',
      'POST /v1/keys/{keyId}/rotate',
      'PUT /v1/keys/{keyId}/plan',
      'GET /v1/items/{itemId}',
      'PUT /v1/items/{itemId}',
      'DELETE /v1/items/{itemId}',
    ]);
  });

  it('every other tenant\'s credential, on every resource route, with the owner\'s ids → 404 like a missing id; nothing changed', async () => {
    const before = await Promise.all(tenants.map(snapshot));
    for (const owner of tenants) {
      for (const intruder of tenants.filter((t) => t !== owner)) {
        for (const [credName, credential] of Object.entries(intruder.credentials)) {
          for (const route of RESOURCE_ROUTES) {
            const path = route.path.replace('{keyId}', owner.keyId).replace('{itemId}', owner.itemId);
            const missing = route.path.replace('{keyId}', 'AAAAAAAAAAAA').replace('{itemId}', randomUUID());
            const body = route.path.endsWith('/plan') ? { plan: 'unlimited' } : route.method === 'PUT' ? { name: 'stolen', data: {} } : route.method === 'POST' ? { gracePeriodSeconds: 0 } : undefined;
            const options = { credential, ...(body ? { body } : {}), headers: { 'If-Match': '*' } };
            const [res, absent] = await Promise.all([call(stack, route.method, path, options), call(stack, route.method, missing, options)]);
            figures.matrixRequests++;
            const where = `${intruder.name} (${credName}) ${route.method} ${route.path} of ${owner.name}`;
            expect(problem(res), where).toEqual({ status: 404, type: 'application/problem+json', code: 'NOT_FOUND', detail: absent.json?.detail });
            expect(problem(absent), where).toEqual(problem(res));
            expect(res.text).not.toContain(owner.keyId);
          }
        }
      }
    }
    expect(await Promise.all(tenants.map(snapshot))).toEqual(before);
    for (const s of before) expect(s.keyWorks).toBe(200);
  }, 60_000);

  it('listings and usage show only the caller\'s own data', async () => {
    for (const caller of tenants) {
      for (const credential of Object.values(caller.credentials)) {
        const keys = await call(stack, 'GET', '/v1/keys?limit=100', { credential });
        const items = await call(stack, 'GET', '/v1/items?limit=100', { credential });
        expect(keys.status).toBe(200);
        expect(items.status).toBe(200);
        for (const other of tenants.filter((t) => t !== caller)) {
          expect(keys.text).not.toContain(other.keyId);
          expect(items.text).not.toContain(other.itemId);
          const usage = await call(stack, 'GET', `/v1/usage?keyId=${other.keyId}`, { credential });
          expect(usage.status).toBe(200);
          expect(usage.json).toEqual({ usage: [] });
          figures.matrixRequests += 1;
        }
        figures.matrixRequests += 2;
      }
    }
  }, 30_000);
});

describe('escalation attempts over real HTTP', () => {
  const bob = () => tenants[1]!.credentials.token;
  const alice = () => tenants[0]!.credentials.token;
  const expectRefused = (r: Reply, status: number, code: string) => {
    figures.escalationAttempts++;
    expect({ status: r.status, type: r.headers.get('content-type'), code: r.json?.code }, r.text).toEqual({ status, type: 'application/problem+json', code });
    expect(r.json).not.toHaveProperty('key');
  };

  it('a person creating a key with a scope they lack → 403', async () => {
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: bob(), body: { name: 'x', scopes: ['audit:read'] } }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: bob(), body: { name: 'x', scopes: ['items:read', 'audit:read'] } }), 403, 'PERMISSION_DENIED');
  });

  it('a machine token creating a key broader than its own scopes → 403', async () => {
    const narrow = await machineToken(stack, ['keys:write', 'items:read']);
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: { token: narrow }, body: { name: 'x', scopes: ['items:write'] } }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: { token: narrow }, body: { name: 'x', scopes: ['keys:write', 'items:read', 'audit:read'] } }), 403, 'PERMISSION_DENIED');
  });

  it('a key creating a key with broader scopes than itself → 403; a narrower one works and stays narrow', async () => {
    const parent = await call<{ key: string }>(stack, 'POST', '/v1/keys', { credential: alice(), body: { name: 'parent', scopes: ['keys:write', 'items:read'] } });
    expect(parent.status).toBe(201);
    const asParent = { key: parent.json.key };
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: asParent, body: { name: 'child', scopes: ['items:read', 'items:write'] } }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: asParent, body: { name: 'child', scopes: ['audit:read'] } }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: asParent, body: { name: 'child', scopes: ['keys:read'] } }), 403, 'PERMISSION_DENIED');
    const child = await call<{ key: string; scopes: string[] }>(stack, 'POST', '/v1/keys', { credential: asParent, body: { name: 'child', scopes: ['items:read'] } });
    expect(child.status).toBe(201);
    expect(child.json.scopes).toEqual(['items:read']);
    const who = await call(stack, 'GET', '/v1/whoami', { credential: { key: child.json.key } });
    expect(who.json).toMatchObject({ scopes: ['items:read'] });
    // The child cannot write items or make keys: the gateway's cached policy refuses with 403.
    expectRefused(await call(stack, 'POST', '/v1/items', { credential: { key: child.json.key }, body: { name: 'n', data: {} } }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'POST', '/v1/keys', { credential: { key: child.json.key }, body: { name: 'n', scopes: ['items:read'] } }), 403, 'PERMISSION_DENIED');
  });

  it('rotation never broadens: the successor has exactly the old scopes', async () => {
    const k = await call<{ id: string; key: string }>(stack, 'POST', '/v1/keys', { credential: bob(), body: { name: 'rot', scopes: ['items:read'] } });
    const rotated = await call<{ scopes: string[]; key: string }>(stack, 'POST', `/v1/keys/${k.json.id}/rotate`, { credential: bob(), body: { gracePeriodSeconds: 0 } });
    expect(rotated.status).toBe(201);
    expect(rotated.json.scopes).toEqual(['items:read']);
  });

  it('a users-group person reading /v1/audit → 403; and so does their key', async () => {
    expectRefused(await call(stack, 'GET', '/v1/audit', { credential: bob() }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'GET', `/v1/audit?tenant=${encodeURIComponent('admin')}`, { credential: bob() }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'GET', '/v1/audit', { credential: tenants[1]!.credentials['its API key'] }), 403, 'PERMISSION_DENIED');
  });

  it('a non-admin holding audit:read cannot read another tenant\'s audit events → 403; an admin can (CONTRACT §2)', async () => {
    const machine = tenants[2]!.credentials.token;
    expectRefused(await call(stack, 'GET', `/v1/audit?tenant=${encodeURIComponent('admin')}`, { credential: machine }), 403, 'PERMISSION_DENIED');
    const own = await call(stack, 'GET', '/v1/audit', { credential: machine });
    expect(own.status).toBe(200);
    const admin = await call(stack, 'GET', `/v1/audit?tenant=${encodeURIComponent('admin')}`, { credential: alice() });
    expect(admin.status).toBe(200);
  });

  it('a key without keys:write cannot revoke or rotate, even its own tenant\'s keys → 403', async () => {
    const ro = await call<{ key: string }>(stack, 'POST', '/v1/keys', { credential: bob(), body: { name: 'ro', scopes: ['items:read'] } });
    const victim = tenants[1]!.keyId;
    expectRefused(await call(stack, 'DELETE', `/v1/keys/${victim}`, { credential: { key: ro.json.key } }), 403, 'PERMISSION_DENIED');
    expectRefused(await call(stack, 'POST', `/v1/keys/${victim}/rotate`, { credential: { key: ro.json.key }, body: {} }), 403, 'PERMISSION_DENIED');
  });

  it('/v1/verify is IAM-only: a key or token on it is refused (never answered)', async () => {
    for (const credential of [{ key: stack.config.adminKey }, alice()]) {
      const r = await call(stack, 'POST', '/v1/verify', { credential, body: { key: tenants[0]!.key } });
      figures.escalationAttempts++;
      expect([403, 404]).toContain(r.status);
      expect(r.text).not.toContain('"valid"');
    }
  });
});
