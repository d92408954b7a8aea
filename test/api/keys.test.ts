/** Key lifecycle through the real middleware stack and a real DynamoDB API (dynalite). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeysHandler } from '../../lambdas/api/keys/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { createVerifyHandler } from '../../lambdas/api/verify/operations.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../../lambdas/routes.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { captureOutput, testServices } from '../support/services.js';

let dynamo: TestDynamo;
let services: Services;
const clock = { offsetMs: 0 };
let keys: ReturnType<typeof createKeysHandler>;
let verify: ReturnType<typeof createVerifyHandler>;

const alice = principal('tenant-alice');
const bob = principal('tenant-bob');
const IAM = 'arn:aws:iam::123456789012:role/billing-service';

type Call = Parameters<typeof apiEvent>[0];
const call = (args: Call) => keys(apiEvent(args), lambdaContext());

async function create(p = alice, body: Record<string, unknown> = { name: 'ci', scopes: ['items:read'] }) {
  const res = await call({ method: 'POST', path: '/v1/keys', principal: p, body });
  expect(res.statusCode).toBe(201);
  return bodyOf<{ id: string; key: string; name: string; scopes: string[] }>(res);
}

async function isValid(key: string): Promise<boolean> {
  const res = await verify(apiEvent({ method: 'POST', path: '/v1/verify', iamUserArn: IAM, body: { key } }), lambdaContext());
  return bodyOf<{ valid: boolean }>(res).valid;
}

async function auditEvents(tenant: string) {
  const page = await services.audit.query({ tenant, from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 10 * 86_400_000).toISOString(), limit: 100 });
  return page.events;
}

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-keys-api');
  services = testServices(dynamo, { now: () => Date.now() + clock.offsetMs });
  keys = createKeysHandler(services);
  verify = createVerifyHandler(services);
});
afterAll(() => dynamo.stop());

describe('POST /v1/keys', () => {
  it('creates a key shown once, with security headers and no-store', async () => {
    const res = await call({ method: 'POST', path: '/v1/keys', principal: alice, body: { name: 'deploy bot', scopes: ['items:read', 'items:write'] } });
    expect(res.statusCode).toBe(201);
    const body = bodyOf(res);
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'key', 'name', 'plan', 'scopes']);
    expect(body.key).toMatch(/^gth_test_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    expect(res.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json', Location: `/v1/keys/${String(body.id)}` });
    expect(res.headers?.['Strict-Transport-Security']).toMatch(/max-age=\d+/);
    expect(res.headers?.['X-Content-Type-Options']).toBe('nosniff');
    expect(await isValid(body.key as string)).toBe(true);
  });

  it('refuses scopes the creator lacks (escalation) with 403 and stores nothing', async () => {
    const user = principal('tenant-esc', GATEHOUSE_API.scopes.forGroups(['users']));
    const res = await call({ method: 'POST', path: '/v1/keys', principal: user, body: { name: 'x', scopes: ['items:read', 'audit:read'] } });
    expect(res.statusCode).toBe(403);
    expect(bodyOf(res)).toMatchObject({ code: 'PERMISSION_DENIED', detail: expect.stringContaining('audit:read') });
    const list = await call({ method: 'GET', path: '/v1/keys', principal: user });
    expect(bodyOf<{ keys: unknown[] }>(list).keys).toHaveLength(0);
  });

  it('a caller without keys:write is refused by the handler too (defence in depth)', async () => {
    const reader = principal('tenant-ro', ['keys:read']);
    const res = await call({ method: 'POST', path: '/v1/keys', principal: reader, body: { name: 'x', scopes: ['keys:read'] } });
    expect(res.statusCode).toBe(403);
    expect(res.headers?.['WWW-Authenticate']).toContain('insufficient_scope');
  });

  it('no principal at all → 401 with WWW-Authenticate', async () => {
    const res = await call({ method: 'POST', path: '/v1/keys', body: { name: 'x', scopes: ['keys:read'] } });
    expect(res.statusCode).toBe(401);
    expect(res.headers?.['WWW-Authenticate']).toBe('Bearer realm="gatehouse"');
  });

  it.each([
    ['invalid JSON', { rawBody: '{"name": ', headers: { 'Content-Type': 'application/json' } }, 400, 'VALIDATION_ERROR', ''],
    ['wrong type', { body: { name: 5, scopes: ['items:read'] } }, 400, 'VALIDATION_ERROR', 'name'],
    ['empty name', { body: { name: '  ', scopes: ['items:read'] } }, 400, 'VALIDATION_ERROR', 'name'],
    ['name over 100', { body: { name: 'n'.repeat(101), scopes: ['items:read'] } }, 400, 'VALIDATION_ERROR', 'name'],
    ['undeclared scope', { body: { name: 'n', scopes: ['root'] } }, 400, 'VALIDATION_ERROR', 'scopes'],
    ['malformed scope name', { body: { name: 'n', scopes: ['a b'] } }, 400, 'VALIDATION_ERROR', 'scopes.0'],
    ['no scopes', { body: { name: 'n', scopes: [] } }, 400, 'VALIDATION_ERROR', 'scopes'],
    ['repeated scopes', { body: { name: 'n', scopes: ['items:read', 'items:read'] } }, 400, 'VALIDATION_ERROR', 'scopes'],
    ['extra field', { body: { name: 'n', scopes: ['items:read'], tenant: 'other' } }, 400, 'VALIDATION_ERROR', 'tenant'],
    ['expiry in the past', { body: { name: 'n', scopes: ['items:read'], expiresAt: '2001-01-01T00:00:00Z' } }, 400, 'VALIDATION_ERROR', 'expiresAt'],
    ['expiry not a date', { body: { name: 'n', scopes: ['items:read'], expiresAt: 'tomorrow' } }, 400, 'VALIDATION_ERROR', 'expiresAt'],
    ['wrong content type', { rawBody: 'name=n', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', undefined],
    ['oversize', { body: { name: 'n', scopes: ['items:read'], pad: 'x'.repeat(1024 * 1024) } }, 413, 'PAYLOAD_TOO_LARGE', undefined],
  ] as const)('refuses a bad body: %s', async (_name, args, status, code, field) => {
    const res = await call({ method: 'POST', path: '/v1/keys', principal: alice, ...args });
    expect(res.statusCode).toBe(status);
    expect(res.headers?.['Content-Type']).toBe('application/problem+json');
    const body = bodyOf<{ code: string; errors?: { field: string }[] }>(res);
    expect(Object.keys(body)).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'requestId']));
    expect(body.code).toBe(code);
    if (field !== undefined) expect(body.errors?.map((e) => e.field)).toContain(field);
    expect(res.body).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});

describe('list and get', () => {
  it('never carry the plaintext or the hash', async () => {
    const created = await create(alice);
    const record = await services.keys.get(created.id);
    const list = await call({ method: 'GET', path: '/v1/keys', principal: alice, query: { limit: '100' } });
    const one = await call({ method: 'GET', path: `/v1/keys/${created.id}`, principal: alice });
    for (const res of [list, one]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(created.key);
      expect(res.body).not.toContain(created.key.slice(22, 65));
      expect(res.body).not.toContain(record!.hash);
      expect(res.body).not.toContain('pepperVersion');
    }
    expect(bodyOf(one)).toMatchObject({ id: created.id, status: 'active', prefix: `gth_test_${created.id}` });
  });

  it('paginates newest first with an opaque token bound to the tenant', async () => {
    const tenant = principal('tenant-pages');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(tenant, { name: `k${i}`, scopes: ['items:read'] })).id);
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await call({ method: 'GET', path: '/v1/keys', principal: tenant, query: { limit: '2', ...(nextToken ? { nextToken } : {}) } });
      const body = bodyOf<{ keys: { id: string }[]; nextToken?: string }>(res);
      seen.push(...body.keys.map((k) => k.id));
      nextToken = body.nextToken;
      pages++;
      if (nextToken) {
        // The same token presented by another tenant pages through that tenant's keys only.
        const foreign = await call({ method: 'GET', path: '/v1/keys', principal: bob, query: { nextToken } });
        expect(bodyOf<{ keys: { id: string }[] }>(foreign).keys.map((k) => k.id).filter((id) => ids.includes(id))).toEqual([]);
      }
    } while (nextToken && pages < 10);
    expect(seen).toEqual([...ids].reverse());
    const bad = await call({ method: 'GET', path: '/v1/keys', principal: tenant, query: { nextToken: 'not-a-token' } });
    expect(bad.statusCode).toBe(400);
    expect(bodyOf<{ errors: { field: string }[] }>(bad).errors[0]?.field).toBe('nextToken');
    const badLimit = await call({ method: 'GET', path: '/v1/keys', principal: tenant, query: { limit: '0' } });
    expect(bodyOf<{ errors: { field: string }[] }>(badLimit).errors[0]?.field).toBe('limit');
  });
});

describe('tenancy', () => {
  it('another tenant gets 404 on get, revoke and rotate, and nothing changes', async () => {
    const created = await create(alice);
    const before = await services.keys.get(created.id);
    for (const args of [
      { method: 'GET', path: `/v1/keys/${created.id}` },
      { method: 'DELETE', path: `/v1/keys/${created.id}` },
      { method: 'POST', path: `/v1/keys/${created.id}/rotate`, body: { gracePeriodSeconds: 10 } },
    ]) {
      const res = await call({ ...args, principal: bob });
      expect(res.statusCode).toBe(404);
      expect(bodyOf(res)).toMatchObject({ code: 'NOT_FOUND' });
    }
    const missing = await call({ method: 'GET', path: '/v1/keys/AAAAAAAAAAAA', principal: bob });
    expect(bodyOf(missing).detail).toBe(bodyOf(await call({ method: 'GET', path: `/v1/keys/${created.id}`, principal: bob })).detail);
    expect(await services.keys.get(created.id)).toEqual(before);
    expect(await isValid(created.key)).toBe(true);
    expect((await auditEvents('tenant-bob')).filter((e) => e.keyId === created.id)).toEqual([]);
  });
});

describe('revoke', () => {
  it('revokes at once; revoking twice answers 204 again and writes one audit event', async () => {
    const created = await create(alice);
    const first = await call({ method: 'DELETE', path: `/v1/keys/${created.id}`, principal: alice });
    const second = await call({ method: 'DELETE', path: `/v1/keys/${created.id}`, principal: alice });
    expect([first.statusCode, second.statusCode]).toEqual([204, 204]);
    expect(first.body).toBe('');
    expect(await isValid(created.key)).toBe(false);
    const events = (await auditEvents('tenant-alice')).filter((e) => e.keyId === created.id);
    expect(events.map((e) => e.type).sort()).toEqual(['key.created', 'key.revoked']);
    expect(bodyOf(await call({ method: 'GET', path: `/v1/keys/${created.id}`, principal: alice }))).toMatchObject({ status: 'revoked' });
  });
});

describe('rotate', () => {
  it('the old key works inside the grace period and is refused after it', async () => {
    const created = await create(alice, { name: 'rotating', scopes: ['items:read', 'keys:read'] });
    const res = await call({ method: 'POST', path: `/v1/keys/${created.id}/rotate`, principal: alice, body: { gracePeriodSeconds: 60 } });
    expect(res.statusCode).toBe(201);
    const successor = bodyOf<{ id: string; key: string; name: string; scopes: string[]; rotatedFrom: string }>(res);
    expect(successor).toMatchObject({ name: 'rotating', scopes: ['keys:read', 'items:read'], rotatedFrom: created.id });
    expect(await isValid(created.key)).toBe(true);
    expect(await isValid(successor.key)).toBe(true);
    clock.offsetMs = 61_000;
    try {
      expect(await isValid(created.key)).toBe(false);
      expect(await isValid(successor.key)).toBe(true);
    } finally {
      clock.offsetMs = 0;
    }
    const rotated = (await auditEvents('tenant-alice')).filter((e) => e.type === 'key.rotated' && e.keyId === created.id);
    expect(rotated).toHaveLength(1);
    expect(rotated[0]?.details).toMatchObject({ successorId: successor.id, gracePeriodSeconds: 60 });
  });

  it('without a grace period the old key is refused at once; a rotated or revoked key cannot be rotated again', async () => {
    const created = await create(alice);
    const res = await call({ method: 'POST', path: `/v1/keys/${created.id}/rotate`, principal: alice, body: {} });
    expect(res.statusCode).toBe(201);
    expect(await isValid(created.key)).toBe(false);
    const again = await call({ method: 'POST', path: `/v1/keys/${created.id}/rotate`, principal: alice, body: {} });
    expect(again.statusCode).toBe(400);
    expect(bodyOf(again).detail).toMatch(/already rotated/);
    const revoked = await create(alice);
    await call({ method: 'DELETE', path: `/v1/keys/${revoked.id}`, principal: alice });
    const r = await call({ method: 'POST', path: `/v1/keys/${revoked.id}/rotate`, principal: alice, body: {} });
    expect(bodyOf(r).detail).toMatch(/revoked/);
    const bad = await call({ method: 'POST', path: `/v1/keys/${created.id}/rotate`, principal: alice, body: { gracePeriodSeconds: 86_401 } });
    expect(bodyOf<{ errors: { field: string }[] }>(bad).errors[0]?.field).toBe('gracePeriodSeconds');
  });

  it('concurrent rotations of one key: exactly one successor stays usable', async () => {
    const created = await create(alice);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => call({ method: 'POST', path: `/v1/keys/${created.id}/rotate`, principal: alice, body: { gracePeriodSeconds: 30 } })),
    );
    const winners = results.filter((r) => r.statusCode === 201);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 400)).toHaveLength(5);
    const usable = (await services.keys.listForTenant('tenant-alice', 100)).records
      .filter((r) => r.rotatedFrom === created.id)
      .map((r) => ({ id: r.id, active: r.revokedAt === undefined }));
    expect(usable.filter((u) => u.active).map((u) => u.id)).toEqual([bodyOf<{ id: string }>(winners[0]!).id]);
  });
});

describe('concurrency', () => {
  it('concurrent creates and revokes lose nothing', async () => {
    const tenant = principal('tenant-busy');
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => create(tenant, { name: `c${i}`, scopes: ['items:read'] })));
    const toRevoke = created.slice(0, 10);
    const statuses = await Promise.all(toRevoke.map((k) => call({ method: 'DELETE', path: `/v1/keys/${k.id}`, principal: tenant })));
    expect(statuses.every((s) => s.statusCode === 204)).toBe(true);
    const list = bodyOf<{ keys: { id: string; status: string }[] }>(await call({ method: 'GET', path: '/v1/keys', principal: tenant, query: { limit: '100' } }));
    expect(list.keys).toHaveLength(20);
    const revokedIds = new Set(toRevoke.map((k) => k.id));
    for (const k of list.keys) expect(k.status).toBe(revokedIds.has(k.id) ? 'revoked' : 'active');
    const events = await auditEvents('tenant-busy');
    expect(events.filter((e) => e.type === 'key.created')).toHaveLength(20);
    expect(events.filter((e) => e.type === 'key.revoked')).toHaveLength(10);
  });
});

describe('secrets stay out of logs and audit', () => {
  it('no log line or audit event contains a key, even when a request carries one in odd places', async () => {
    const output = captureOutput();
    let created: { id: string; key: string };
    try {
      created = await create(principal('tenant-logs', ALL_SCOPES));
      // A key sent where it does not belong ends in a logged 4xx/5xx path.
      await call({ method: 'POST', path: '/v1/keys', principal: principal('tenant-logs'), body: { name: created.key, scopes: ['nope'] } });
      await call({ method: 'POST', path: `/v1/keys/${created.id}/rotate`, principal: principal('tenant-logs'), body: { gracePeriodSeconds: 1 }, headers: { Authorization: `Bearer ${created.key}` } });
    } finally {
      output.restore();
    }
    expect(output.text()).not.toContain(created.key.slice(22, 65));
    const events = JSON.stringify(await auditEvents('tenant-logs'));
    expect(events).not.toContain(created.key.slice(22, 65));
  });
});

describe('POST /v1/verify', () => {
  it('answers valid with key facts, and valid:false with no reason for anything else', async () => {
    const created = await create(alice, { name: 'v', scopes: ['items:read'] });
    const ok = await verify(apiEvent({ method: 'POST', path: '/v1/verify', iamUserArn: IAM, body: { key: created.key } }), lambdaContext());
    expect(bodyOf(ok)).toEqual({ valid: true, keyId: created.id, tenant: 'tenant-alice', scopes: ['items:read'], expiresAt: null });
    for (const key of ['', 'garbage', created.key.slice(0, -1), created.key.replace('gth_test', 'gth_live')]) {
      const res = await verify(apiEvent({ method: 'POST', path: '/v1/verify', iamUserArn: IAM, body: { key } }), lambdaContext());
      expect(bodyOf(res)).toEqual({ valid: false });
    }
  });

  it('requires an IAM identity', async () => {
    const res = await verify(apiEvent({ method: 'POST', path: '/v1/verify', body: { key: 'x' } }), lambdaContext());
    expect(res.statusCode).toBe(401);
  });
});

describe('the bootstrap admin key', () => {
  it('confers admin by its record flag only; only an administrator may revoke or rotate it, and its successor stays admin', async () => {
    const { ensureAdminKey } = await import('../../lambdas/core/bootstrap.js');
    const boot = await ensureAdminKey({ scopes: GATEHOUSE_API.scopes, store: services.keys, peppers: services.peppers, environment: 'test' });
    expect(boot.record.admin).toBe(true);
    // Anyone else in tenant "admin" (a key the admin made, or a token whose claims say "admin") is no administrator.
    const sameTenant = principal('admin', ALL_SCOPES);
    const made = await create(sameTenant, { name: 'delegate', scopes: ['keys:write', 'keys:read'] });
    expect((await services.keys.get(made.id))?.admin).toBeUndefined();
    const revoke = await call({ method: 'DELETE', path: `/v1/keys/${boot.record.id}`, principal: sameTenant });
    const rotate = await call({ method: 'POST', path: `/v1/keys/${boot.record.id}/rotate`, principal: sameTenant, body: {} });
    expect([revoke.statusCode, rotate.statusCode]).toEqual([403, 403]);
    expect(await isValid(boot.key)).toBe(true);

    const administrator = principal('admin', ALL_SCOPES, { admin: true, principalId: `key:${boot.record.id}` });
    const rotated = await call({ method: 'POST', path: `/v1/keys/${boot.record.id}/rotate`, principal: administrator, body: {} });
    expect(rotated.statusCode).toBe(201);
    const successor = bodyOf<{ id: string }>(rotated);
    expect((await services.keys.get(successor.id))?.admin).toBe(true);
  });
});
