/** GET /v1/audit and the audit store, against real dynalite through the one middleware stack. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditHandler } from '../../lambdas/api/audit/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { SYSTEM_TENANT, type AuditEvent, type AuditEventInput } from '../../lambdas/core/audit.js';
import { AuditStore, auditPk } from '../../lambdas/core/audit-store.js';
import { ALL_SCOPES } from '../../lambdas/routes.js';
import type { Principal } from '../../lambdas/core/principal.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { captureOutput, testServices } from '../support/services.js';

let dynamo: TestDynamo;
let services: Services;
let handler: ReturnType<typeof createAuditHandler>;
const clock = { t: Date.parse('2030-06-15T12:00:00.000Z') };

const admin = principal('admin', ALL_SCOPES, { admin: true, principalId: 'key:adminkey0001', authMethod: 'api_key' });
const userOf = (tenant: string) => principal(tenant);

interface Page {
  events: AuditEvent[];
  nextToken?: string;
}

async function call(who: Principal, query?: Record<string, string>) {
  const result = await handler(apiEvent({ method: 'GET', path: '/v1/audit', principal: who, ...(query ? { query } : {}) }), lambdaContext());
  return { status: result.statusCode, headers: result.headers ?? {}, body: bodyOf<Page & { code?: string; detail?: string; errors?: { field: string }[] }>(result) };
}

async function seed(events: AuditEventInput[]): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (const e of events) out.push(await services.audit.record(e));
  return out;
}

/** Every page of a query, following nextToken. */
async function allPages(who: Principal, query: Record<string, string>): Promise<{ pages: Page[]; events: AuditEvent[] }> {
  const pages: Page[] = [];
  let token: string | undefined;
  do {
    const res = await call(who, { ...query, ...(token ? { nextToken: token } : {}) });
    expect(res.status).toBe(200);
    pages.push(res.body);
    token = res.body.nextToken;
  } while (token && pages.length < 100);
  return { pages, events: pages.flatMap((p) => p.events) };
}

const ids = (events: AuditEvent[]) => events.map((e) => e.id);
const isNewestFirst = (events: AuditEvent[]) => events.every((e, i) => i === 0 || `${events[i - 1]!.at}#${events[i - 1]!.id}` > `${e.at}#${e.id}`);

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-audit');
  services = testServices(dynamo, { now: () => clock.t, settings: { auditRetentionDays: 30 } });
  handler = createAuditHandler(services);
});
afterAll(() => dynamo.stop());

describe('GET /v1/audit: who sees what', () => {
  // Each describe block uses its own year, so admin-wide queries see only that block's events.
  const window = { from: '2031-01-01T00:00:00Z', to: '2031-01-02T00:00:00Z' };
  let a: AuditEvent[];
  let b: AuditEvent[];
  let sys: AuditEvent[];

  beforeAll(async () => {
    a = await seed([
      { type: 'key.created', tenant: 'iso-a', actor: 'user-iso-a', keyId: 'AAAAAAAAAAA1', at: '2031-01-01T01:00:00Z' },
      { type: 'key.revoked', tenant: 'iso-a', actor: 'user-iso-a', keyId: 'AAAAAAAAAAA1', at: '2031-01-01T02:00:00Z' },
    ]);
    b = await seed([{ type: 'key.created', tenant: 'iso-b', actor: 'user-iso-b', keyId: 'BBBBBBBBBBB1', at: '2031-01-01T03:00:00Z' }]);
    sys = await seed([{ type: 'credential.refused', tenant: SYSTEM_TENANT, reason: 'unknown', at: '2031-01-01T04:00:00Z' }]);
  });

  it("shows a tenant its own events only, newest first, and never another tenant's", async () => {
    const resA = await call(userOf('iso-a'), window);
    expect(resA.status).toBe(200);
    expect(ids(resA.body.events)).toEqual(ids(a).reverse());
    expect(resA.body.events.every((e) => e.tenant === 'iso-a')).toBe(true);
    expect(resA.body.nextToken).toBeUndefined();

    const resB = await call(userOf('iso-b'), window);
    expect(ids(resB.body.events)).toEqual(ids(b));
  });

  it('shows an administrator every tenant (system events included), or one tenant with `tenant`', async () => {
    const all = await call(admin, window);
    expect(all.status).toBe(200);
    expect(ids(all.body.events)).toEqual(ids([...a, ...b, ...sys]).reverse());

    const onlyA = await call(admin, { ...window, tenant: 'iso-a' });
    expect(ids(onlyA.body.events)).toEqual(ids(a).reverse());
    const onlySystem = await call(admin, { ...window, tenant: SYSTEM_TENANT });
    expect(ids(onlySystem.body.events)).toEqual(ids(sys));
  });

  it('refuses a non-administrator naming another tenant (403, not a silent fallback), accepts their own', async () => {
    const other = await call(userOf('iso-b'), { ...window, tenant: 'iso-a' });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('PERMISSION_DENIED');
    expect(other.body.events).toBeUndefined();
    // Same answer whether the tenant exists or not: nothing is learned about other tenants.
    const ghost = await call(userOf('iso-b'), { ...window, tenant: 'no-such-tenant' });
    expect(ghost.status).toBe(403);
    expect(ghost.body.detail).toBe(other.body.detail);

    const own = await call(userOf('iso-b'), { ...window, tenant: 'iso-b' });
    expect(own.status).toBe(200);
    expect(ids(own.body.events)).toEqual(ids(b));
  });

  it('keeps system events from a non-administrator whose tenant is the system tenant', async () => {
    const res = await call(userOf(SYSTEM_TENANT), window);
    expect(res.status).toBe(403);
  });

  it('needs the audit:read scope; item 4: the handler, which knows it, names it in the detail and as scope= (RFC 6750 §3)', async () => {
    const res = await call(principal('iso-a', ALL_SCOPES.filter((s) => s !== 'audit:read')), window);
    expect(res.status).toBe(403);
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="audit:read"');
    expect(res.body).toMatchObject({ code: 'PERMISSION_DENIED', detail: 'This request needs the scope audit:read.' });
  });
});

describe('GET /v1/audit: time range and type filters', () => {
  let seeded: AuditEvent[];
  beforeAll(async () => {
    seeded = await seed([
      { type: 'key.created', tenant: 'range-a', at: '2032-03-01T10:00:00.000Z' },
      { type: 'key.rotated', tenant: 'range-a', at: '2032-03-01T11:00:00.000Z' },
      { type: 'key.revoked', tenant: 'range-a', at: '2032-03-01T12:00:00.000Z' },
      { type: 'credential.refused', tenant: 'range-a', reason: 'expired', at: '2032-03-01T13:00:00.000Z' },
      { type: 'key.created', tenant: 'range-a', at: '2032-03-02T09:00:00.000Z' },
    ]);
  });

  it('treats from as inclusive and to as exclusive', async () => {
    const res = await call(userOf('range-a'), { from: '2032-03-01T11:00:00Z', to: '2032-03-01T13:00:00Z' });
    expect(res.body.events.map((e) => e.type)).toEqual(['key.revoked', 'key.rotated']);
  });

  it('accepts offsets and bare dates, normalised to UTC', async () => {
    const res = await call(userOf('range-a'), { from: '2032-03-01T12:30:00+02:00', to: '2032-03-02' });
    expect(res.body.events.map((e) => e.at)).toEqual(['2032-03-01T13:00:00.000Z', '2032-03-01T12:00:00.000Z', '2032-03-01T11:00:00.000Z']);
  });

  it('defaults to the last 24 hours', async () => {
    const saved = clock.t;
    clock.t = Date.parse('2032-03-02T10:30:00.000Z');
    try {
      const res = await call(userOf('range-a'));
      expect(res.body.events.map((e) => e.at)).toEqual(['2032-03-02T09:00:00.000Z', '2032-03-01T13:00:00.000Z', '2032-03-01T12:00:00.000Z', '2032-03-01T11:00:00.000Z']);
      // `from` alone: `to` is now.
      const fromOnly = await call(userOf('range-a'), { from: '2032-03-01T12:30:00Z' });
      expect(fromOnly.body.events).toHaveLength(2);
    } finally {
      clock.t = saved;
    }
  });

  it('filters by comma-separated types, as user and as administrator', async () => {
    const window = { from: '2032-03-01T00:00:00Z', to: '2032-03-03T00:00:00Z' };
    const res = await call(userOf('range-a'), { ...window, type: 'key.created,key.revoked' });
    expect(res.body.events.map((e) => `${e.type}@${e.at.slice(0, 13)}`)).toEqual([
      'key.created@2032-03-02T09',
      'key.revoked@2032-03-01T12',
      'key.created@2032-03-01T10',
    ]);
    const asAdmin = await call(admin, { ...window, type: 'credential.refused' });
    expect(ids(asAdmin.body.events)).toEqual([seeded[3]!.id]);
  });
});

describe('GET /v1/audit: pagination', () => {
  let tenantEvents: AuditEvent[];
  beforeAll(async () => {
    const inputs: AuditEventInput[] = [];
    // 23 events for one tenant over three days, two of them in the same millisecond; and 7 for another tenant.
    for (let i = 0; i < 23; i++) {
      const at = new Date(Date.parse('2033-05-01T00:00:00.000Z') + Math.floor(i * 3.1 * 3_600_000)).toISOString();
      inputs.push({ type: i % 3 === 0 ? 'key.revoked' : 'key.created', tenant: 'page-a', at });
    }
    inputs.push({ type: 'key.created', tenant: 'page-a', at: inputs[10]!.at! });
    tenantEvents = await seed(inputs);
    await seed(Array.from({ length: 7 }, (_, i) => ({ type: 'key.created' as const, tenant: 'page-b', at: `2033-05-0${1 + (i % 3)}T05:0${i}:00.000Z` })));
  });
  const window = { from: '2033-05-01T00:00:00Z', to: '2033-05-05T00:00:00Z' };

  it('pages a tenant through every event exactly once, newest first', async () => {
    const { pages, events } = await allPages(userOf('page-a'), { ...window, limit: '5' });
    expect(pages).toHaveLength(5);
    expect(pages.slice(0, 4).every((p) => p.events.length === 5 && p.nextToken)).toBe(true);
    expect(pages[4]!.nextToken).toBeUndefined();
    expect(new Set(ids(events)).size).toBe(24);
    expect(new Set(ids(events))).toEqual(new Set(ids(tenantEvents)));
    expect(isNewestFirst(events)).toBe(true);
  });

  it('pages with a type filter without gaps', async () => {
    const { events } = await allPages(userOf('page-a'), { ...window, limit: '3', type: 'key.revoked' });
    expect(new Set(ids(events))).toEqual(new Set(ids(tenantEvents.filter((e) => e.type === 'key.revoked'))));
    expect(events).toHaveLength(8);
    expect(isNewestFirst(events)).toBe(true);
  });

  it('pages an administrator across tenants and day buckets without duplicates or gaps', async () => {
    const everything = await call(admin, { ...window, limit: '100' });
    expect(everything.body.events).toHaveLength(31);
    expect(everything.body.nextToken).toBeUndefined();
    for (const limit of ['1', '4', '7']) {
      const { events } = await allPages(admin, { ...window, limit });
      expect(ids(events)).toEqual(ids(everything.body.events));
    }
    expect(isNewestFirst(everything.body.events)).toBe(true);
  });

  it('carries the window in the token: a later page needs no from/to, even after the clock moves', async () => {
    const saved = clock.t;
    clock.t = Date.parse('2033-05-04T00:00:00.000Z');
    try {
      const first = await call(userOf('page-a'), { limit: '2' });
      expect(first.body.events).toHaveLength(2);
      clock.t += 3_600_000;
      const second = await call(userOf('page-a'), { limit: '2', nextToken: first.body.nextToken! });
      expect(second.status).toBe(200);
      // The window stays [05-03, 05-04) though "the last 24 hours" has moved on.
      const expected = tenantEvents
        .filter((e) => e.at >= '2033-05-03T00:00:00.000Z')
        .sort((x, y) => (`${y.at}#${y.id}` > `${x.at}#${x.id}` ? 1 : -1))
        .slice(0, 4);
      expect(ids([...first.body.events, ...second.body.events])).toEqual(ids(expected));
    } finally {
      clock.t = saved;
    }
  });

  it("never lets a token page into another tenant's partition, or into another query", async () => {
    const first = await call(userOf('page-a'), { ...window, limit: '2' });
    const token = first.body.nextToken!;
    for (const [who, query] of [
      [userOf('page-b'), { ...window, nextToken: token }],
      [admin, { ...window, nextToken: token }], // all tenants is another scope
      [admin, { ...window, tenant: 'page-b', nextToken: token }],
      [userOf('page-a'), { ...window, from: '2033-05-02T00:00:00Z', nextToken: token }],
      [userOf('page-a'), { ...window, type: 'key.revoked', nextToken: token }],
    ] as const) {
      const res = await call(who, query);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(res.body.errors?.map((e) => e.field)).toEqual(['nextToken']);
    }
    // A token forged to point outside the window is refused too.
    const forged = JSON.parse(Buffer.from(token, 'base64url').toString()) as { p: { sk: string } };
    forged.p.sk = `2099-01-01T00:00:00.000Z#${'0'.repeat(26)}`;
    const res = await call(userOf('page-a'), { ...window, nextToken: Buffer.from(JSON.stringify(forged)).toString('base64url') });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.field).toBe('nextToken');
  });
});

describe('GET /v1/audit: bad queries', () => {
  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ type: 'key.created,key.exploded' }, 'type'],
    [{ from: 'yesterday' }, 'from'],
    [{ to: '2030-13-01T00:00:00Z' }, 'to'],
    [{ from: '2030-06-15T00:00:00Z', to: '2030-06-14T00:00:00Z' }, 'from'],
    [{ from: '2030-01-01T00:00:00Z', to: '2030-03-01T00:00:00Z' }, 'from'],
    [{ from: '2030-01-01T00:00:00Z' }, 'from'], // to defaults to now: more than 31 days
    [{ nextToken: 'not-a-token' }, 'nextToken'],
    [{ nextToken: 'a b' }, 'nextToken'],
    [{ since: '2030-01-01' }, 'since'],
  ])('answers %j with 400 naming %s', async (query, field) => {
    const res = await call(userOf('bad-q'), query);
    expect(res.status).toBe(400);
    expect(res.headers['Content-Type']).toBe('application/problem+json');
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.errors?.map((e) => e.field)).toContain(field);
    expect(res.body.detail).toContain(field);
  });

  it('accepts exactly 31 days', async () => {
    const res = await call(userOf('bad-q'), { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' });
    expect(res.status).toBe(200);
  });
});

describe('audit store', () => {
  it('sets ttl to at + retention, and the keys of both access paths', async () => {
    const [event] = await seed([{ type: 'key.created', tenant: 'ttl-a', at: '2034-02-03T04:05:06.789Z' }]);
    const out = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: auditPk('ttl-a'), sk: `${event!.at}#${event!.id}` } }));
    expect(out.Item).toMatchObject({
      ttl: Math.floor(Date.parse('2034-02-03T04:05:06.789Z') / 1000) + 30 * 86_400,
      gsi1pk: 'AUDIT#2034-02-03',
      gsi1sk: `2034-02-03T04:05:06.789Z#${event!.id}`,
    });
    expect(event!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('defaults at to now and hands out unique, time-sortable ids', async () => {
    const events = await seed(Array.from({ length: 50 }, () => ({ type: 'key.created' as const, tenant: 'ids-a' })));
    expect(events.every((e) => e.at === new Date(clock.t).toISOString())).toBe(true);
    expect(new Set(ids(events)).size).toBe(50);
    const later = await services.audit.record({ type: 'key.created', tenant: 'ids-a', at: new Date(clock.t + 1).toISOString() });
    expect(events.every((e) => e.id < later.id)).toBe(true);
  });

  it('redacts credentials a writer put into an event by mistake', async () => {
    const key = 'gth_test_AAAAAAAAAAAA_' + 'b'.repeat(43) + 'cccccc';
    const event = await services.audit.record({
      type: 'credential.refused',
      tenant: 'redact-a',
      reason: `bad ${key}`,
      details: { path: `/v1/items/${key}`, key, header: 'Bearer abc.def.ghi' },
    });
    const stored = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: auditPk('redact-a'), sk: `${event.at}#${event.id}` } }));
    const text = JSON.stringify(stored.Item);
    expect(text).not.toContain(key);
    expect(text).not.toContain('b'.repeat(43));
    expect(text).not.toContain('abc.def.ghi');
    expect(stored.Item?.reason).toBe('bad [REDACTED]');
  });

  it('answers short pages with a resumable token when its read budget is spent, still without gaps', async () => {
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 1, maxReadsPerQuery: 2 });
    // Sparse matches spread over ten days (admin path: one read per day bucket) …
    const inputs: AuditEventInput[] = [];
    for (let day = 1; day <= 10; day++) {
      inputs.push({ type: 'key.created', tenant: `budget-${day % 3}`, at: `2035-01-${String(day).padStart(2, '0')}T06:00:00.000Z` });
      if (day % 4 === 0) inputs.push({ type: 'mode.changed', tenant: SYSTEM_TENANT, at: `2035-01-${String(day).padStart(2, '0')}T07:00:00.000Z` });
    }
    // … and one tenant with 150 events of which 3 match (tenant path: 100 items per read under a filter).
    for (let i = 0; i < 150; i++) {
      inputs.push({ type: i % 50 === 7 ? 'key.rotated' : 'key.created', tenant: 'budget-t', at: new Date(Date.parse('2035-02-01T00:00:00Z') + i * 60_000).toISOString() });
    }
    const seeded = await Promise.all(inputs.map((e) => store.record(e)));

    const collect = async (query: Omit<Parameters<AuditStore['query']>[0], 'nextToken'>) => {
      const out: AuditEvent[] = [];
      let shortPages = 0;
      let token: string | undefined;
      do {
        const page = await store.query({ ...query, ...(token ? { nextToken: token } : {}) });
        if (page.nextToken && page.events.length < query.limit) shortPages++;
        out.push(...page.events);
        token = page.nextToken;
      } while (token);
      return { out, shortPages };
    };
    const admin = await collect({ from: '2035-01-01T00:00:00Z', to: '2035-01-11T00:00:00Z', types: ['mode.changed'], limit: 5 });
    expect(admin.shortPages).toBeGreaterThan(0);
    expect(ids(admin.out)).toEqual(ids(seeded.filter((e) => e.type === 'mode.changed').reverse()));

    const tenant = await collect({ tenant: 'budget-t', from: '2035-02-01T00:00:00Z', to: '2035-02-02T00:00:00Z', types: ['key.rotated'], limit: 2 });
    expect(ids(tenant.out)).toEqual(ids(seeded.filter((e) => e.type === 'key.rotated').reverse()));
  });

  it('turns store failures into a 503 DependencyError', async () => {
    const broken = await startDynalite('gatehouse-audit-broken');
    const brokenServices = testServices(broken);
    await broken.stop();
    await expect(brokenServices.audit.record({ type: 'key.created', tenant: 'x' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const output = captureOutput();
    try {
      const res = await createAuditHandler(brokenServices)(apiEvent({ method: 'GET', path: '/v1/audit', principal: userOf('x') }), lambdaContext());
      expect(res.statusCode).toBe(503);
      expect(output.text()).toMatch(/dependency failure/);
    } finally {
      output.restore();
    }
  });
});
