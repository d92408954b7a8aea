/**
 * Who may mint, rotate and revoke credentials (issue 11): function-level authorization on the key routes.
 *
 * The rule (CONTRACT amendment of 2026-12-02): a key's rotation successor, and any key a key creates, is something
 * the caller could have created — scopes ⊆ the caller's, expiry no later than the caller's (a key in its rotation
 * grace period counts as expiring at its end). Revoking needs the key's scopes too (administrators excepted). The
 * anonymous principal (audit/off modes) never creates, rotates or revokes credentials.
 *
 * Handler-level tests run the real keys handler over real dynalite; the HTTP tests run a whole local stack in audit
 * mode (gateway + authorizer + handlers), where a valid credential is used exactly as in enforce mode.
 */
import { createHash } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { createAuditHandler } from '../../lambdas/api/audit/operations.js';
import { createKeysHandler } from '../../lambdas/api/keys/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { createVerifyHandler } from '../../lambdas/api/verify/operations.js';
import { DependencyError } from '../../lambdas/core/errors.js';
import { issueKey } from '../../lambdas/core/key-issuer.js';
import type { KeyRecord } from '../../lambdas/core/key-record.js';
import { KEY_SK, keyPk, tenantKeysPk } from '../../lambdas/core/key-store.js';
import { anonymousPrincipal, type Principal } from '../../lambdas/core/principal.js';
import type { Scope } from '../../lambdas/core/scopes.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../../lambdas/routes.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { captureOutput, testServices } from '../support/services.js';
import { call as httpCall, startTestStack } from './support/http.js';

let dynamo: TestDynamo;
let services: Services;
let keys: ReturnType<typeof createKeysHandler>;
let verify: ReturnType<typeof createVerifyHandler>;
let audit: ReturnType<typeof createAuditHandler>;

const IAM = 'arn:aws:iam::123456789012:role/credential-authorization';
const HOUR = 3_600_000;

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-credential-authz');
  services = testServices(dynamo);
  keys = createKeysHandler(services);
  verify = createVerifyHandler(services);
  audit = createAuditHandler(services);
});
afterAll(() => dynamo?.stop());

type Call = Parameters<typeof apiEvent>[0];
const call = (args: Call, handler = keys) => handler(apiEvent(args), lambdaContext());

interface Created {
  id: string;
  key: string;
  scopes: string[];
  expiresAt: string | null;
}

/** A key issued straight through the issuer (as an earlier creator would have), in `tenant`. */
async function seedKey(tenant: string, scopes: readonly Scope[], extra: { expiresAt?: string } = {}) {
  return issueKey(
    { store: services.keys, peppers: services.peppers, environment: 'test' },
    { tenant, name: 'seeded', scopes, createdBy: 'seed', ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {}) },
  );
}

/** The principal the authorizer builds for an API key. */
const asKey = (record: KeyRecord): Principal => ({
  principalId: `key:${record.id}`,
  authMethod: 'api_key',
  tenant: record.tenant,
  scopes: record.scopes,
  admin: record.admin === true,
  keyId: record.id,
});

async function isValid(key: string): Promise<boolean> {
  const res = await verify(apiEvent({ method: 'POST', path: '/v1/verify', iamUserArn: IAM, body: { key } }), lambdaContext());
  return bodyOf<{ valid: boolean }>(res).valid;
}

async function tenantRecords(tenant: string): Promise<KeyRecord[]> {
  return (await services.keys.listForTenant(tenant, 100)).records;
}

async function eventsOf(tenant: string) {
  const now = Date.now();
  const page = await services.audit.query({ tenant, from: new Date(now - HOUR).toISOString(), to: new Date(now + HOUR).toISOString(), limit: 100 });
  return page.events;
}

/** Runs a request whose injected fault is logged (as it must be), keeping the run readable; no key reaches the log. */
async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const output = captureOutput();
  try {
    return await run();
  } finally {
    output.restore();
    expect(output.text()).toContain('dependency failure');
    expect(output.text()).not.toMatch(/gth_test_[0-9A-Za-z]{12}_/);
  }
}

/** Everything that a refused write must leave untouched: the tenant's records and its audit events. */
async function tenantState(tenant: string) {
  return { records: await tenantRecords(tenant), events: (await eventsOf(tenant)).map((e) => e.id) };
}

describe('finding 11.1: rotation and revocation cannot reach beyond the caller', () => {
  it('finding 11.1: a key holding only keys:write cannot rotate a broader key of its tenant (403 naming the missing scopes, nothing written)', async () => {
    const tenant = 'authz-rotate-key';
    const broad = await seedKey(tenant, ALL_SCOPES);
    const narrow = await seedKey(tenant, ['keys:write']);
    const before = await tenantState(tenant);

    const res = await call({ method: 'POST', path: `/v1/keys/${broad.record.id}/rotate`, principal: asKey(narrow.record), body: { gracePeriodSeconds: 60 } });

    expect(res.statusCode, res.body).toBe(403);
    const problem = bodyOf<{ code: string; detail: string }>(res);
    expect(problem.code).toBe('PERMISSION_DENIED');
    for (const missing of ALL_SCOPES.filter((s) => s !== 'keys:write')) expect(problem.detail).toContain(missing);
    expect(res.body).not.toContain('gth_');
    expect(await tenantState(tenant)).toEqual(before);
    expect(await isValid(broad.key)).toBe(true);
  });

  it('finding 11.1: a users-group member sharing a tenant cannot rotate an administrator\'s key into one holding audit:read', async () => {
    const tenant = 'authz-shared-tenant';
    const adminsKey = await seedKey(tenant, ['keys:read', 'audit:read']);
    const member = principal(tenant, GATEHOUSE_API.scopes.forGroups(['users']), { principalId: 'bob' });
    const before = await tenantState(tenant);

    const res = await call({ method: 'POST', path: `/v1/keys/${adminsKey.record.id}/rotate`, principal: member, body: {} });

    expect(res.statusCode, res.body).toBe(403);
    expect(bodyOf(res)).toMatchObject({ code: 'PERMISSION_DENIED', detail: expect.stringContaining('audit:read') });
    expect(bodyOf<{ detail: string }>(res).detail).not.toContain('keys:read');
    expect(await tenantState(tenant)).toEqual(before);
    expect(await isValid(adminsKey.key)).toBe(true);
  });

  it('finding 11.1: revoking needs the key\'s scopes too (403, nothing written); an administrator may revoke any key of its tenant', async () => {
    const tenant = 'authz-revoke';
    const broad = await seedKey(tenant, ['items:read', 'audit:read']);
    const narrow = await seedKey(tenant, ['keys:write', 'items:read']);
    const member = principal(tenant, GATEHOUSE_API.scopes.forGroups(['users']), { principalId: 'bob' });
    const before = await tenantState(tenant);

    for (const caller of [asKey(narrow.record), member]) {
      const res = await call({ method: 'DELETE', path: `/v1/keys/${broad.record.id}`, principal: caller });
      expect(res.statusCode, res.body).toBe(403);
      expect(bodyOf(res)).toMatchObject({ code: 'PERMISSION_DENIED', detail: expect.stringContaining('audit:read') });
    }
    expect(await tenantState(tenant)).toEqual(before);
    expect(await isValid(broad.key)).toBe(true);

    // Incident response: an administrator revokes whatever it must, even holding fewer scopes than the key.
    const administrator = principal(tenant, ['keys:write'], { admin: true, principalId: 'incident-responder' });
    const revoked = await call({ method: 'DELETE', path: `/v1/keys/${broad.record.id}`, principal: administrator });
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect(await isValid(broad.key)).toBe(false);
    expect((await eventsOf(tenant)).map((e) => e.type)).toEqual(['key.revoked']);
  });

  it('finding 11.1: an administrator is not excepted for rotation (the successor would be a key it could not create)', async () => {
    const tenant = 'authz-admin-rotate';
    const broad = await seedKey(tenant, ['items:read', 'audit:read']);
    const administrator = principal(tenant, ['keys:write', 'items:read'], { admin: true, principalId: 'narrowed-admin' });
    const before = await tenantState(tenant);
    const res = await call({ method: 'POST', path: `/v1/keys/${broad.record.id}/rotate`, principal: administrator, body: {} });
    expect(res.statusCode, res.body).toBe(403);
    expect(await tenantState(tenant)).toEqual(before);
  });

  it('finding 11.1: a caller holding every scope of the key still rotates and revokes it (itself included)', async () => {
    const tenant = 'authz-allowed';
    const target = await seedKey(tenant, ['items:read']);
    const caller = await seedKey(tenant, ['keys:write', 'items:read']);
    const rotated = await call({ method: 'POST', path: `/v1/keys/${target.record.id}/rotate`, principal: asKey(caller.record), body: {} });
    expect(rotated.statusCode, rotated.body).toBe(201);
    expect(bodyOf<Created>(rotated).scopes).toEqual(['items:read']);
    const successor = bodyOf<Created>(rotated);
    const revoked = await call({ method: 'DELETE', path: `/v1/keys/${successor.id}`, principal: asKey(caller.record) });
    expect(revoked.statusCode, revoked.body).toBe(204);
    const self = await call({ method: 'POST', path: `/v1/keys/${caller.record.id}/rotate`, principal: asKey(caller.record), body: { gracePeriodSeconds: 30 } });
    expect(self.statusCode, self.body).toBe(201);
    expect(bodyOf<Created>(self)).toMatchObject({ scopes: ['keys:write', 'items:read'], expiresAt: null });
  });

  it('finding 11.1: a caller reaching another tenant\'s broader key still gets 404, not 403 (existence is not revealed)', async () => {
    const other = await seedKey('authz-other-tenant', ALL_SCOPES);
    const caller = principal('authz-intruder', ['keys:write']);
    for (const args of [
      { method: 'DELETE', path: `/v1/keys/${other.record.id}` },
      { method: 'POST', path: `/v1/keys/${other.record.id}/rotate`, body: {} },
    ]) {
      const res = await call({ ...args, principal: caller });
      expect(res.statusCode, res.body).toBe(404);
    }
  });
});

describe('finding 11.2: the anonymous principal never handles credentials', () => {
  it('finding 11.2: anonymous cannot create, rotate or revoke keys, whatever its scopes (403, nothing written)', async () => {
    const anonymous = anonymousPrincipal(ALL_SCOPES);
    const existing = await seedKey(anonymous.tenant, ['items:read']);
    const before = await tenantState(anonymous.tenant);
    for (const args of [
      { method: 'POST', path: '/v1/keys', body: { name: 'mint', scopes: ['items:read'] } },
      { method: 'POST', path: `/v1/keys/${existing.record.id}/rotate`, body: {} },
      { method: 'DELETE', path: `/v1/keys/${existing.record.id}` },
      { method: 'POST', path: '/v1/keys/AAAAAAAAAAAA/rotate', body: {} },
    ]) {
      const res = await call({ ...args, principal: anonymous });
      expect(res.statusCode, `${args.method} ${args.path}: ${res.body}`).toBe(403);
      expect(bodyOf(res)).toMatchObject({ code: 'PERMISSION_DENIED', detail: expect.stringMatching(/anonymous/i) });
      expect(res.body).not.toContain('gth_');
    }
    // (Whether a key of the reserved tenant `anonymous` verifies is the key verifier's business: the record is unchanged.)
    expect(await tenantState(anonymous.tenant)).toEqual(before);
  });
});

describe('finding 11.3: a key cannot outlive itself through the keys it makes', () => {
  it('finding 11.3: a key caller\'s new key inherits the caller\'s expiry when the body gives none (and the response shows it)', async () => {
    const tenant = 'authz-inherit';
    const callerEnd = new Date(Date.now() + 60_000).toISOString();
    const caller = await seedKey(tenant, ['keys:write', 'items:read'], { expiresAt: callerEnd });
    const res = await call({ method: 'POST', path: '/v1/keys', principal: asKey(caller.record), body: { name: 'child', scopes: ['items:read'] } });
    expect(res.statusCode, res.body).toBe(201);
    const child = bodyOf<Created>(res);
    expect(child.expiresAt).toBe(callerEnd);
    expect((await services.keys.get(child.id))?.expiresAt).toBe(callerEnd);
    // An explicit expiry at or before the caller's end is kept as given.
    const earlier = new Date(Date.parse(callerEnd) - 30_000).toISOString();
    const explicit = await call({ method: 'POST', path: '/v1/keys', principal: asKey(caller.record), body: { name: 'child2', scopes: ['items:read'], expiresAt: earlier } });
    expect(bodyOf<Created>(explicit).expiresAt).toBe(earlier);
  });

  it('finding 11.3: an expiresAt later than the caller key\'s end is refused 400 on expiresAt, naming the latest allowed instant; nothing stored', async () => {
    const tenant = 'authz-too-late';
    const callerEnd = new Date(Date.now() + 60_000).toISOString();
    const caller = await seedKey(tenant, ['keys:write', 'items:read'], { expiresAt: callerEnd });
    const before = await tenantState(tenant);
    const res = await call({
      method: 'POST',
      path: '/v1/keys',
      principal: asKey(caller.record),
      body: { name: 'child', scopes: ['items:read'], expiresAt: new Date(Date.now() + 365 * 24 * HOUR).toISOString() },
    });
    expect(res.statusCode, res.body).toBe(400);
    const problem = bodyOf<{ code: string; errors: { field: string; message: string }[] }>(res);
    expect(problem.code).toBe('VALIDATION_ERROR');
    expect(problem.errors).toEqual([{ field: 'expiresAt', message: expect.stringContaining(callerEnd) }]);
    expect(await tenantState(tenant)).toEqual(before);
  });

  it('finding 11.3: a key in its rotation grace period counts as expiring at the grace end, for creating and for rotating', async () => {
    const tenant = 'authz-grace';
    const caller = await seedKey(tenant, ['keys:write', 'items:read']);
    const target = await seedKey(tenant, ['items:read']);
    const rotated = await call({ method: 'POST', path: `/v1/keys/${caller.record.id}/rotate`, principal: asKey(caller.record), body: { gracePeriodSeconds: 120 } });
    expect(rotated.statusCode, rotated.body).toBe(201);
    const inGrace = (await services.keys.get(caller.record.id))!;
    expect(inGrace.graceUntil).toBeDefined();

    const made = await call({ method: 'POST', path: '/v1/keys', principal: asKey(inGrace), body: { name: 'late child', scopes: ['items:read'] } });
    expect(made.statusCode, made.body).toBe(201);
    expect(bodyOf<Created>(made).expiresAt).toBe(inGrace.graceUntil);

    const successor = await call({ method: 'POST', path: `/v1/keys/${target.record.id}/rotate`, principal: asKey(inGrace), body: {} });
    expect(successor.statusCode, successor.body).toBe(201);
    expect(bodyOf<Created>(successor).expiresAt).toBe(inGrace.graceUntil);
  });

  it('finding 11.3: a rotation successor made by a key caller expires at min(old key\'s expiry, caller\'s end)', async () => {
    const tenant = 'authz-successor-cap';
    const callerEnd = new Date(Date.now() + 10 * 60_000).toISOString();
    const caller = await seedKey(tenant, ['keys:write', 'items:read'], { expiresAt: callerEnd });
    const forever = await seedKey(tenant, ['items:read']);
    const soon = new Date(Date.now() + 5 * 60_000).toISOString();
    const shortLived = await seedKey(tenant, ['items:read'], { expiresAt: soon });

    const capped = await call({ method: 'POST', path: `/v1/keys/${forever.record.id}/rotate`, principal: asKey(caller.record), body: {} });
    expect(capped.statusCode, capped.body).toBe(201);
    expect(bodyOf<Created>(capped).expiresAt).toBe(callerEnd);
    expect((await services.keys.get(bodyOf<Created>(capped).id))?.expiresAt).toBe(callerEnd);

    const kept = await call({ method: 'POST', path: `/v1/keys/${shortLived.record.id}/rotate`, principal: asKey(caller.record), body: {} });
    expect(bodyOf<Created>(kept).expiresAt).toBe(soon);
  });

  it('finding 11.3: a key caller whose record is gone (or no longer usable) is refused on create and rotate, nothing written (fail closed)', async () => {
    const tenant = 'authz-ghost';
    const target = await seedKey(tenant, ['items:read']);
    const ghost: Principal = { principalId: 'key:GhostKey0001', authMethod: 'api_key', tenant, scopes: ['keys:write', 'items:read'], admin: false, keyId: 'GhostKey0001' };
    const revokedCaller = await seedKey(tenant, ['keys:write', 'items:read']);
    await services.keys.revoke(revokedCaller.record.id, tenant, new Date(Date.now() - 1000).toISOString());
    const before = await tenantState(tenant);
    for (const caller of [ghost, asKey(revokedCaller.record)]) {
      const created = await call({ method: 'POST', path: '/v1/keys', principal: caller, body: { name: 'x', scopes: ['items:read'] } });
      const rotated = await call({ method: 'POST', path: `/v1/keys/${target.record.id}/rotate`, principal: caller, body: {} });
      expect([created.statusCode, rotated.statusCode], created.body + rotated.body).toEqual([401, 401]);
      expect(created.body).not.toContain('gth_');
    }
    expect(await tenantState(tenant)).toEqual(before);
  });

  it('finding 11.3: people and machines (JWT) are not capped by their token\'s exp', async () => {
    const res = await call({ method: 'POST', path: '/v1/keys', principal: principal('authz-jwt'), body: { name: 'long', scopes: ['items:read'] } });
    expect(res.statusCode, res.body).toBe(201);
    expect(bodyOf<Created>(res).expiresAt).toBeNull();
  });
});

describe('finding 11.7: instants are bounded, normalised, and rotation is all-or-nothing', () => {
  it.each([
    ['past year 9999 through a negative offset', '9999-12-31T23:59:59-23:59'],
    ['past year 9999 through a positive offset', '9999-12-31T23:59:59.999-00:01'],
    ['before 1970', '1969-12-31T23:59:59Z'],
  ])('finding 11.7: expiresAt %s is refused 400 naming expiresAt, nothing stored', async (_name, expiresAt) => {
    const tenant = 'authz-bounds';
    const before = await tenantState(tenant);
    const res = await call({ method: 'POST', path: '/v1/keys', principal: principal(tenant), body: { name: 'far', scopes: ['items:read'], expiresAt } });
    expect(res.statusCode, res.body).toBe(400);
    expect(bodyOf<{ errors: { field: string }[] }>(res).errors.map((e) => e.field)).toEqual(['expiresAt']);
    expect(await tenantState(tenant)).toEqual(before);
  });

  it('finding 11.7: the latest instant is accepted and every accepted expiresAt is stored as a UTC Z string', async () => {
    const tenant = 'authz-normalised';
    for (const [given, stored] of [
      ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
      ['9999-12-31T23:59:59+00:00', '9999-12-31T23:59:59.000Z'],
      ['2031-05-01T12:00:00+02:00', '2031-05-01T10:00:00.000Z'],
    ] as const) {
      const res = await call({ method: 'POST', path: '/v1/keys', principal: principal(tenant), body: { name: 'n', scopes: ['items:read'], expiresAt: given } });
      expect(res.statusCode, res.body).toBe(201);
      expect(bodyOf<Created>(res).expiresAt).toBe(stored);
      expect((await services.keys.get(bodyOf<Created>(res).id))?.expiresAt).toBe(stored);
    }
  });

  it.each([
    ['to past year 9999', { from: '9999-12-31T00:00:00Z', to: '9999-12-31T23:59:59-23:59' }, 'to'],
    ['from past year 9999', { from: '9999-12-31T23:59:59-23:59' }, 'from'],
    ['from before 1970', { from: '1969-12-31T00:00:00Z', to: '1970-01-01T12:00:00Z' }, 'from'],
    ['a bare date past the range', { from: '9999-12-30', to: '9999-12-31T23:59:59.999-00:01' }, 'to'],
  ])('finding 11.7: GET /v1/audit with %s answers 400 naming the field, never 5xx', async (_name, query, field) => {
    for (const who of [principal('authz-audit-q'), principal('admin', ALL_SCOPES, { admin: true })]) {
      const res = await call({ method: 'GET', path: '/v1/audit', principal: who, query }, audit);
      expect(res.statusCode, res.body).toBe(400);
      expect(bodyOf<{ errors: { field: string }[] }>(res).errors.map((e) => e.field)).toContain(field);
    }
  });

  it('finding 11.7: the audit store itself refuses windows it cannot key by, and a forged page token cannot widen or invert its window', async () => {
    const tenant = 'authz-store-window';
    await expect(services.audit.query({ tenant, from: '9999-12-31T00:00:00Z', to: '+010000-01-01T00:00:00.000Z', limit: 10 })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      fields: [{ field: 'to', message: expect.any(String) }],
    });
    const scope = createHash('sha256').update(`tenant:${tenant}`).digest('base64url').slice(0, 22);
    const forge = (f: string, t: string, sk: string) => Buffer.from(JSON.stringify({ v: 1, s: scope, f, t, y: [], p: { sk } })).toString('base64url');
    for (const token of [
      // A window of eight thousand years (the API allows 31 days).
      forge('1970-01-01T00:00:00.000Z', '9999-12-31T00:00:00.000Z', '2033-04-05T06:07:08.000Z#01ARZ3NDEKTSV4RRFFQ69G5FAV'),
      // An expanded year that sorts before every four-digit one.
      forge('+010000-01-01T00:00:00.000Z', '9999-12-31T00:00:00.000Z', '2033-04-05T06:07:08.000Z#01ARZ3NDEKTSV4RRFFQ69G5FAV'),
    ]) {
      const res = await call({ method: 'GET', path: '/v1/audit', principal: principal(tenant), query: { nextToken: token } }, audit);
      expect(res.statusCode, res.body).toBe(400);
      expect(bodyOf<{ errors: { field: string }[] }>(res).errors.map((e) => e.field)).toEqual(['nextToken']);
    }
  });

  it('finding 11.7: the edges of the range are accepted by GET /v1/audit', async () => {
    for (const query of [{ from: '9999-12-31T00:00:00Z', to: '9999-12-31T23:59:59.999Z' }, { from: '1970-01-01T00:00:00Z', to: '1970-01-02' }]) {
      const res = await call({ method: 'GET', path: '/v1/audit', principal: principal('authz-audit-edges'), query }, audit);
      expect(res.statusCode, res.body).toBe(200);
    }
  });

  it('finding 11.7: a key stored with an expiry past year 9999 (before the bounds existed) rotates; the successor gets a bounded UTC expiry and no orphan is left', async () => {
    const tenant = 'authz-legacy-far';
    const legacy = await seedKey(tenant, ['items:read']);
    // As the unbounded schema stored it: `new Date(...).toISOString()` of an instant in year 10000.
    const far = new Date(Date.parse('9999-12-31T23:59:59-23:59')).toISOString();
    expect(far.startsWith('+010000-')).toBe(true);
    await putRaw({ ...legacy.record, expiresAt: far });

    const res = await call({ method: 'POST', path: `/v1/keys/${legacy.record.id}/rotate`, principal: principal(tenant), body: {} });
    expect(res.statusCode, res.body).toBe(201);
    const successor = bodyOf<Created>(res);
    expect(successor.expiresAt).toBe('9999-12-31T23:59:59.999Z');
    expect((await services.keys.get(successor.id))?.expiresAt).toBe('9999-12-31T23:59:59.999Z');
    const records = await tenantRecords(tenant);
    expect(records.filter((r) => r.rotatedFrom === legacy.record.id).map((r) => r.id)).toEqual([successor.id]);
    expect(await isValid(successor.key)).toBe(true);
  });

  it('finding 11.7: every refusal of a rotation comes before the successor is issued (no successor record for 400, 403 or 404)', async () => {
    const tenant = 'authz-no-orphans';
    const rotatedOnce = await seedKey(tenant, ['items:read']);
    expect((await call({ method: 'POST', path: `/v1/keys/${rotatedOnce.record.id}/rotate`, principal: principal(tenant), body: {} })).statusCode).toBe(201);
    const revoked = await seedKey(tenant, ['items:read']);
    await services.keys.revoke(revoked.record.id, tenant, new Date(Date.now() - 1000).toISOString());
    const expired = await seedKey(tenant, ['items:read']);
    await putRaw({ ...expired.record, expiresAt: new Date(Date.now() - 1000).toISOString() });
    const damaged = await seedKey(tenant, ['items:read']);
    await putRaw({ ...damaged.record, expiresAt: 'not a time' });
    const broad = await seedKey(tenant, ['audit:read']);
    const before = await tenantState(tenant);
    for (const [id, who, status] of [
      [rotatedOnce.record.id, principal(tenant), 400],
      [revoked.record.id, principal(tenant), 400],
      [expired.record.id, principal(tenant), 400],
      [damaged.record.id, principal(tenant), 400],
      [broad.record.id, principal(tenant, ['keys:write']), 403],
    ] as const) {
      const res = await call({ method: 'POST', path: `/v1/keys/${id}/rotate`, principal: who, body: {} });
      expect(res.statusCode, res.body).toBe(status);
    }
    expect(await tenantState(tenant)).toEqual(before);
  });

  it('finding 11.7: when retiring the old key fails after the successor exists, the successor is revoked and the old key is untouched (503)', async () => {
    const tenant = 'authz-mark-fails';
    const old = await seedKey(tenant, ['items:read']);
    const failingKeys = Object.assign(Object.create(services.keys) as Services['keys'], {
      markRotated: () => Promise.reject(new DependencyError('key-store', new Error('injected: the table is unreachable'))),
    });
    const handler = createKeysHandler({ ...services, keys: failingKeys });
    const res = await quietly(() => handler(apiEvent({ method: 'POST', path: `/v1/keys/${old.record.id}/rotate`, principal: principal(tenant), body: { gracePeriodSeconds: 60 } }), lambdaContext()));
    expect(res.statusCode, res.body).toBe(503);
    expect(res.body).not.toContain('gth_');
    const successors = (await tenantRecords(tenant)).filter((r) => r.rotatedFrom === old.record.id);
    expect(successors).toHaveLength(1);
    expect(successors[0]!.revokedAt).toBeDefined();
    expect(await services.keys.get(old.record.id)).toEqual(old.record);
    expect(await isValid(old.key)).toBe(true);
  });

  it('finding 11.7: when the audit write fails after the old key was retired, the rotation is undone: successor revoked, old key restored (503)', async () => {
    const tenant = 'authz-audit-fails';
    const old = await seedKey(tenant, ['items:read']);
    const failingAudit = Object.assign(Object.create(services.audit) as Services['audit'], {
      record: () => Promise.reject(new DependencyError('audit-store', new Error('injected: the table is unreachable'))),
    });
    const handler = createKeysHandler({ ...services, audit: failingAudit });
    const res = await quietly(() => handler(apiEvent({ method: 'POST', path: `/v1/keys/${old.record.id}/rotate`, principal: principal(tenant), body: { gracePeriodSeconds: 0 } }), lambdaContext()));
    expect(res.statusCode, res.body).toBe(503);
    expect(res.body).not.toContain('gth_');
    const successors = (await tenantRecords(tenant)).filter((r) => r.rotatedFrom === old.record.id);
    expect(successors).toHaveLength(1);
    expect(successors[0]!.revokedAt).toBeDefined();
    expect(await services.keys.get(old.record.id)).toEqual(old.record);
    expect(await isValid(old.key)).toBe(true);
    // And the key can be rotated properly afterwards.
    const again = await call({ method: 'POST', path: `/v1/keys/${old.record.id}/rotate`, principal: principal(tenant), body: {} });
    expect(again.statusCode, again.body).toBe(201);
  });

  it('finding 11.7: a created key whose audit write fails is revoked (no usable key nobody was shown)', async () => {
    const tenant = 'authz-create-audit-fails';
    const failingAudit = Object.assign(Object.create(services.audit) as Services['audit'], {
      record: () => Promise.reject(new DependencyError('audit-store', new Error('injected'))),
    });
    const handler = createKeysHandler({ ...services, audit: failingAudit });
    const res = await quietly(() => handler(apiEvent({ method: 'POST', path: '/v1/keys', principal: principal(tenant), body: { name: 'n', scopes: ['items:read'] } }), lambdaContext()));
    expect(res.statusCode, res.body).toBe(503);
    const records = await tenantRecords(tenant);
    expect(records).toHaveLength(1);
    expect(records[0]!.revokedAt).toBeDefined();
  });

  it('finding 11.7: keys stored with odd timestamps: listing, getting, rotating and revoking never answer 5xx, and a revoke always takes effect', async () => {
    const tenant = 'authz-odd-keys';
    const odd = ['+010000-01-01T23:58:59.000Z', 'not a time', '', '-000001-01-01T00:00:00.000Z'];
    const ids: string[] = [];
    for (const value of odd) {
      const seeded = await seedKey(tenant, ['items:read']);
      await putRaw({ ...seeded.record, expiresAt: value, revokedAt: value, graceUntil: value });
      ids.push(seeded.record.id);
    }
    const list = await call({ method: 'GET', path: '/v1/keys', principal: principal(tenant), query: { limit: '100' } });
    expect(list.statusCode, list.body).toBe(200);
    expect(bodyOf<{ keys: unknown[] }>(list).keys).toHaveLength(odd.length);
    for (const id of ids) {
      for (const args of [
        { method: 'GET', path: `/v1/keys/${id}` },
        { method: 'POST', path: `/v1/keys/${id}/rotate`, body: {} },
        { method: 'DELETE', path: `/v1/keys/${id}` },
      ]) {
        const res = await call({ ...args, principal: principal(tenant) });
        expect(res.statusCode, `${args.method} ${args.path}: ${res.body}`).toBeLessThan(500);
      }
    }
    // Revoking answers 204 only when the key is then refused: a far-future `+010000-…` revokedAt (which sorts before
    // every four-digit year) must not make the store believe the key is already revoked.
    for (const value of odd) {
      const seeded = await seedKey(tenant, ['items:read']);
      await putRaw({ ...seeded.record, revokedAt: value });
      const res = await call({ method: 'DELETE', path: `/v1/keys/${seeded.record.id}`, principal: principal(tenant) });
      expect(res.statusCode, `${value}: ${res.body}`).toBe(204);
      expect(await isValid(seeded.key), value).toBe(false);
      expect(bodyOf(await call({ method: 'GET', path: `/v1/keys/${seeded.record.id}`, principal: principal(tenant) }))).toMatchObject({ status: 'revoked' });
    }
  });

  it('finding 11.7: GET /v1/audit tolerates events stored with odd times (tenant and administrator reads)', async () => {
    const tenant = 'authz-odd-audit';
    const at = '2033-04-05T06:07:08.000Z';
    const good = await services.audit.record({ type: 'key.created', tenant, at });
    // Items as a buggy writer could have left them: an `at` that is not a time, and one past year 9999.
    for (const [sk, oddAt] of [
      [`2033-04-05T06:07:09.000Z#01ARZ3NDEKTSV4RRFFQ69G5FAV`, 'not a time'],
      [`+010000-01-01T00:00:00.000Z#01ARZ3NDEKTSV4RRFFQ69G5FAW`, '+010000-01-01T00:00:00.000Z'],
    ] as const) {
      await dynamo.doc.send(
        new PutCommand({
          TableName: dynamo.tableName,
          Item: { pk: `TENANT#${tenant}#AUDIT`, sk, gsi1pk: `AUDIT#${sk.slice(0, 10)}`, gsi1sk: sk, entity: 'audit', id: sk.slice(-26), type: 'key.created', tenant, at: oddAt },
        }),
      );
    }
    const window = { from: '2033-04-05T00:00:00Z', to: '2033-04-06T00:00:00Z' };
    for (const who of [principal(tenant), principal('admin', ALL_SCOPES, { admin: true })]) {
      const res = await call({ method: 'GET', path: '/v1/audit', principal: who, query: { ...window, limit: '1' } }, audit);
      expect(res.statusCode, res.body).toBe(200);
      let token = bodyOf<{ nextToken?: string }>(res).nextToken;
      for (let pages = 0; token && pages < 5; pages++) {
        const next = await call({ method: 'GET', path: '/v1/audit', principal: who, query: { ...window, limit: '1', nextToken: token } }, audit);
        expect(next.statusCode, next.body).toBe(200);
        token = bodyOf<{ nextToken?: string }>(next).nextToken;
      }
    }
    expect(good.at).toBe(at);
  });
});

/** Writes a key item as an older version (or a damaged writer) could have left it. */
async function putRaw(record: KeyRecord): Promise<void> {
  await dynamo.doc.send(
    new PutCommand({
      TableName: dynamo.tableName,
      Item: { pk: keyPk(record.id), sk: KEY_SK, entity: 'key', gsi1pk: tenantKeysPk(record.tenant), gsi1sk: `${record.createdAt}#${record.id}`, ...record },
    }),
  );
  const stored = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: keyPk(record.id), sk: KEY_SK } }));
  expect(stored.Item?.id).toBe(record.id);
}

describe('over real HTTP: a local stack in audit mode', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startTestStack({ GATEHOUSE_AUTH_MODE: 'audit' });
  }, 60_000);
  afterAll(() => stack?.close());

  const admin = () => ({ key: stack.config.adminKey });

  async function anonymousKeyEvents() {
    const res = await httpCall<{ events: { type: string }[] }>(stack, 'GET', '/v1/audit?tenant=anonymous&type=key.created,key.rotated,key.revoked', { credential: admin() });
    expect(res.status, res.text).toBe(200);
    return res.json.events;
  }

  it('finding 11.2: an unauthenticated POST /v1/keys in audit mode is refused 403 and mints nothing', async () => {
    const res = await httpCall(stack, 'POST', '/v1/keys', { body: { name: 'free key', scopes: ['items:read'] } });
    expect(res.status, res.text).toBe(403);
    expect(res.json).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(res.text).not.toContain('gth_');
    expect(await anonymousKeyEvents()).toEqual([]);
  });

  it('finding 11.1: over HTTP, a keys:write-only key cannot rotate or revoke a broader key of its tenant; the broader key keeps working', async () => {
    const broad = await httpCall<{ id: string; key: string }>(stack, 'POST', '/v1/keys', { credential: admin(), body: { name: 'broad', scopes: [...ALL_SCOPES] } });
    const narrow = await httpCall<{ id: string; key: string }>(stack, 'POST', '/v1/keys', { credential: admin(), body: { name: 'narrow', scopes: ['keys:write'] } });
    expect([broad.status, narrow.status]).toEqual([201, 201]);
    const asNarrow = { key: narrow.json.key };
    const rotate = await httpCall(stack, 'POST', `/v1/keys/${broad.json.id}/rotate`, { credential: asNarrow, body: { gracePeriodSeconds: 0 } });
    expect(rotate.status, rotate.text).toBe(403);
    expect(rotate.json).toMatchObject({ code: 'PERMISSION_DENIED', detail: expect.stringContaining('audit:read') });
    expect(rotate.text).not.toContain('gth_');
    const revoke = await httpCall(stack, 'DELETE', `/v1/keys/${broad.json.id}`, { credential: asNarrow });
    expect(revoke.status, revoke.text).toBe(403);
    const who = await httpCall(stack, 'GET', '/v1/whoami', { credential: { key: broad.json.key } });
    expect(who.status).toBe(200);
    expect(who.json).toMatchObject({ authMethod: 'api_key', keyId: broad.json.id });
  });
});
