/**
 * The authorizer's bookkeeping on real dynalite: refusals become few audit events (collapsed, bounded, never a
 * credential), mode changes become exactly one event across concurrent cold starts, and an authorizer built by
 * buildAuthorizerDeps records refusals and usage into the real table — through its bookkeeping lines, which the
 * bookkeeper stores (as CloudWatch Logs hands them over in AWS).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, type RefusalEvent } from '../lambdas/authorizer/authorizer.js';
import { buildAuthorizerDeps, readAuthorizerSettings } from '../lambdas/authorizer/wiring.js';
import { generateApiKey } from '../lambdas/core/api-key.js';
import { SYSTEM_TENANT, type AuditEvent, type AuditEventInput } from '../lambdas/core/audit.js';
import { AuditStore } from '../lambdas/core/audit-store.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { trackAuthMode } from '../lambdas/core/mode-tracker.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { RefusalRecorder, type CountableAuditSink } from '../lambdas/core/refusal-recorder.js';
import { UsageStore } from '../lambdas/core/usage-store.js';
import { batchOf, lineCapture, testBookkeeper } from './support/bookkeeping.js';
import { captureLog } from './support/capture-log.js';
import { startDynalite, type TestDynamo } from './support/dynalite.js';
import { authorizerEvent } from './support/events.js';

const PEPPER = 'recording-pepper-'.padEnd(48, 'r');
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-recording');
});
afterAll(() => dynamo.stop());

/** The real store, counting calls. */
function countingSink(store: AuditStore): CountableAuditSink & { records: number; updates: number } {
  const sink = {
    records: 0,
    updates: 0,
    record: (e: AuditEventInput) => {
      sink.records++;
      return store.record(e);
    },
    updateDetails: (e: Pick<AuditEvent, 'tenant' | 'at' | 'id'>, d: NonNullable<AuditEventInput['details']>) => {
      sink.updates++;
      return store.updateDetails(e, d);
    },
  };
  return sink;
}

const refusal = (extra: Partial<RefusalEvent> = {}): RefusalEvent => ({
  reason: 'unknown',
  credentialKind: 'api_key',
  keyId: 'AbCdEf012345',
  sourceIp: '203.0.113.5',
  method: 'GET',
  path: '/v1/items',
  mode: 'enforce',
  outcome: 'denied',
  ...extra,
});

async function eventsOf(store: AuditStore, tenant: string | undefined, from: string, to: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let token: string | undefined;
  do {
    const page = await store.query({ ...(tenant === undefined ? {} : { tenant }), from, to, limit: 100, ...(token ? { nextToken: token } : {}) });
    out.push(...page.events);
    token = page.nextToken;
  } while (token);
  return out;
}

describe('RefusalRecorder', () => {
  it('collapses 1,000 identical refusals into one event with count 1000', async () => {
    const clock = { t: Date.parse('2040-01-01T00:00:00.000Z') };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const sink = countingSink(store);
    const recorder = new RefusalRecorder({ sink, log: captureLog(), now: () => clock.t, windowMs: 60_000 });
    const tenant = 'flood-a';
    for (let i = 0; i < 1000; i++) {
      recorder.record(refusal({ tenant, reason: 'secret_mismatch' }));
      clock.t += 50; // 50 s in all: one window
    }
    await new Promise((r) => setTimeout(r, 50));
    // The first is on record at once (an isolated attempt is never lost), with count 1 so far.
    let stored = await eventsOf(store, tenant, '2040-01-01T00:00:00Z', '2040-01-02T00:00:00Z');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.details?.count).toBe(1);

    clock.t += 60_000;
    recorder.sweep(); // the window has ended
    await recorder.flushAll();
    stored = await eventsOf(store, tenant, '2040-01-01T00:00:00Z', '2040-01-02T00:00:00Z');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      type: 'credential.refused',
      tenant,
      reason: 'secret_mismatch',
      keyId: 'AbCdEf012345',
      sourceIp: '203.0.113.5',
      at: '2040-01-01T00:00:00.000Z',
      details: { count: 1000, method: 'GET', path: '/v1/items', credentialKind: 'api_key', lastAt: '2040-01-01T00:00:49.950Z' },
    });
    expect(sink.records).toBe(1);
    expect(sink.updates).toBe(1);
    expect(recorder.openWindows).toBe(0);

    // The next window starts a new event.
    recorder.record(refusal({ tenant, reason: 'secret_mismatch' }));
    await recorder.flushAll();
    expect(await eventsOf(store, tenant, '2040-01-01T00:00:00Z', '2040-01-02T00:00:00Z')).toHaveLength(2);
  });

  it('keeps distinct refusals distinct: type, reason, keyId, source IP and tenant', async () => {
    const clock = { t: Date.parse('2040-02-01T00:00:00.000Z') };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const recorder = new RefusalRecorder({ sink: store, log: captureLog(), now: () => clock.t });
    const variants: Partial<RefusalEvent>[] = [
      { tenant: 'distinct-a' },
      { tenant: 'distinct-a', reason: 'revoked' },
      { tenant: 'distinct-a', keyId: 'ZZZZZZZZZZZ1' },
      { tenant: 'distinct-a', sourceIp: '198.51.100.1' },
      { tenant: 'distinct-a', outcome: 'allowed_anonymous', mode: 'audit' },
      { tenant: 'distinct-b' },
      {}, // no tenant: the system tenant
    ];
    for (let round = 0; round < 3; round++) for (const v of variants) recorder.record(refusal(v));
    await recorder.flushAll();
    const a = await eventsOf(store, 'distinct-a', '2040-02-01T00:00:00Z', '2040-02-02T00:00:00Z');
    expect(a).toHaveLength(5);
    expect(a.every((e) => e.details?.count === 3)).toBe(true);
    expect(a.filter((e) => e.type === 'auth.anonymous')).toHaveLength(1);
    expect(await eventsOf(store, 'distinct-b', '2040-02-01T00:00:00Z', '2040-02-02T00:00:00Z')).toHaveLength(1);
    const system = await eventsOf(store, SYSTEM_TENANT, '2040-02-01T00:00:00Z', '2040-02-02T00:00:00Z');
    expect(system).toHaveLength(1);
  });

  it('never stores credential text, wherever the refusal carried it', async () => {
    const clock = { t: Date.parse('2040-03-01T00:00:00.000Z') };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const recorder = new RefusalRecorder({ sink: store, log: captureLog(), now: () => clock.t });
    const { key } = generateApiKey('test');
    const secret = key.slice(22, 65);
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
    recorder.record(refusal({ tenant: 'leak-a', path: `/v1/items/${key}`, reason: `bad key ${key}` }));
    recorder.record(refusal({ tenant: 'leak-a', keyId: key, path: `/v1/keys?token=${jwt}`, sourceIp: `Bearer ${secret}` }));
    recorder.record(refusal({ tenant: 'leak-a', path: `/${'x'.repeat(5000)}${key}` }));
    await recorder.flushAll();
    const stored = await eventsOf(store, 'leak-a', '2040-03-01T00:00:00Z', '2040-03-02T00:00:00Z');
    expect(stored).toHaveLength(3);
    const scan = await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName }));
    const table = JSON.stringify(scan.Items);
    for (const fragment of [key, secret, jwt, key.slice(0, 30)]) expect(table).not.toContain(fragment);
    expect(stored.every((e) => String(e.details?.path).length <= 260)).toBe(true);
    expect(stored.find((e) => e.keyId !== undefined && e.keyId !== 'AbCdEf012345')).toBeUndefined(); // a whole key is no key id
  });

  it('bounds writes and memory under a spray of distinct refusals', async () => {
    const clock = { t: Date.parse('2040-04-01T00:00:00.000Z') };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const sink = countingSink(store);
    const recorder = new RefusalRecorder({ sink, log: captureLog(), now: () => clock.t, maxBuckets: 50, maxEventsPerWindow: 20 });
    for (let i = 0; i < 5000; i++) {
      const id = String(i).padStart(12, '0');
      recorder.record(refusal({ keyId: id, sourceIp: `10.0.${i >> 8}.${i & 255}` }));
      expect(recorder.openWindows).toBeLessThanOrEqual(21);
    }
    await recorder.flushAll();
    expect(sink.records).toBe(21); // 20 events, then one aggregate
    const events = await eventsOf(store, SYSTEM_TENANT, '2040-04-01T00:00:00Z', '2040-04-02T00:00:00Z');
    const aggregate = events.find((e) => e.details?.aggregated === true);
    expect(aggregate).toMatchObject({ type: 'credential.refused', reason: 'unknown', details: { count: 4980 } });
    expect(aggregate?.keyId).toBeUndefined();
    expect(events.reduce((n, e) => n + Number(e.details?.count), 0)).toBe(5000);
  });

  it('never throws into the authorizer when the store fails; logs instead', async () => {
    const log = captureLog();
    const broken: CountableAuditSink = {
      record: () => Promise.reject(new Error('dynamo down')),
      updateDetails: () => {
        throw new Error('sync failure');
      },
    };
    const recorder = new RefusalRecorder({ sink: broken, log, windowMs: 0 });
    for (let i = 0; i < 10; i++) expect(() => recorder.record(refusal())).not.toThrow();
    await expect(recorder.flushAll()).resolves.toBeUndefined();
    expect(log.lines.filter((l) => l.level === 'error').length).toBeGreaterThan(0);
  });
});

describe('mode changes', () => {
  it('records exactly one mode.changed across concurrent cold starts, and none for the same mode', async () => {
    const table = await startDynalite('gatehouse-mode');
    try {
      const store = new AuditStore(table.doc, table.tableName, { retentionDays: 7 });
      const deps = { doc: table.doc, tableName: table.tableName, audit: store };
      const modeEvents = async () => (await eventsOf(store, SYSTEM_TENANT, new Date(Date.now() - 3_600_000).toISOString(), new Date(Date.now() + 3_600_000).toISOString())).filter((e) => e.type === 'mode.changed');

      const first = await Promise.all(Array.from({ length: 6 }, () => trackAuthMode(deps, 'enforce')));
      expect(first.filter((r) => r.outcome === 'changed')).toHaveLength(1);
      expect((await modeEvents()).map((e) => e.details)).toEqual([{ from: 'none', to: 'enforce' }]);

      const same = await Promise.all(Array.from({ length: 3 }, () => trackAuthMode(deps, 'enforce')));
      expect(same.every((r) => r.outcome === 'unchanged')).toBe(true);
      expect(await modeEvents()).toHaveLength(1);

      const changed = await Promise.all(Array.from({ length: 6 }, () => trackAuthMode(deps, 'audit')));
      expect(changed.filter((r) => r.outcome === 'changed')).toHaveLength(1);
      const events = await modeEvents();
      expect(events).toHaveLength(2);
      expect(events[0]).toMatchObject({ tenant: SYSTEM_TENANT, details: { from: 'enforce', to: 'audit' } });
    } finally {
      await table.stop();
    }
  });
});

describe('an authorizer built by buildAuthorizerDeps', () => {
  const settings = (mode: string) =>
    readAuthorizerSettings({ GATEHOUSE_TABLE_NAME: dynamo.tableName, GATEHOUSE_LOCAL_PEPPER: PEPPER, GATEHOUSE_KEY_ENV: 'test', GATEHOUSE_AUTH_MODE: mode });
  const window = () => ({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() });

  it('records refusals, usage and the mode into the real table', async () => {
    const log = captureLog();
    const lines = lineCapture();
    const deps = buildAuthorizerDeps(settings('enforce'), log, { dynamo: dynamo.doc, bookkeeping: lines.write });
    const decide = createAuthorizer(deps);
    const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 600 });
    const { key, record } = await issueKey(
      { store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers, environment: 'test' },
      { tenant: 'wired-a', name: 'k', scopes: ['items:read'], createdBy: 'test' },
    );
    const wrongSecret = generateApiKey('test', record.id).key;
    const unknown = generateApiKey('test').key;

    for (let i = 0; i < 5; i++) await decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    for (let i = 0; i < 3; i++) await expect(decide(authorizerEvent({ headers: { 'X-API-Key': wrongSecret } }))).rejects.toThrow(/^Unauthorized$/);
    await expect(decide(authorizerEvent({ headers: { Authorization: `Bearer ${unknown}` }, path: `/v1/items/${unknown}` }))).rejects.toThrow(/^Unauthorized$/);
    await expect(decide(authorizerEvent({ headers: {} }))).rejects.toThrow(/^Unauthorized$/); // no credential: not an audit finding in enforce mode
    await deps.recording.trackMode();
    // Every line was written before its decision returned; the bookkeeper stores one batch of them.
    expect(lines.lines).toHaveLength(5 + 3 + 1);
    await testBookkeeper(dynamo).handle(batchOf(lines.text()));

    const { from, to } = window();
    const owned = await eventsOf(deps.recording.audit, 'wired-a', from, to);
    expect(owned).toHaveLength(1);
    expect(owned[0]).toMatchObject({ type: 'credential.refused', reason: 'secret_mismatch', keyId: record.id, sourceIp: '203.0.113.9', details: { count: 3 } });
    const system = await eventsOf(deps.recording.audit, SYSTEM_TENANT, from, to);
    expect(system.filter((e) => e.type === 'credential.refused')).toHaveLength(1);
    expect(system.filter((e) => e.type === 'mode.changed')).toHaveLength(1);

    expect(await new UsageStore(dynamo.doc, dynamo.tableName).listForTenant('wired-a')).toEqual([
      { keyId: record.id, requests: 5, lastUsedAt: expect.any(String) as string },
    ]);
    const scan = JSON.stringify((await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName }))).Items);
    for (const k of [key, wrongSecret, unknown]) {
      expect(scan).not.toContain(k);
      expect(lines.text()).not.toContain(k);
    }
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('records a missing credential in audit mode as auth.anonymous, once per window', async () => {
    const lines = lineCapture();
    const deps = buildAuthorizerDeps(settings('audit'), captureLog(), { dynamo: dynamo.doc, bookkeeping: lines.write });
    const decide = createAuthorizer(deps);
    for (let i = 0; i < 4; i++) {
      const result = await decide(authorizerEvent({ headers: {}, sourceIp: '192.0.2.44' }));
      expect(result.context?.principalId).toBe('anonymous');
    }
    // Two batches, as CloudWatch Logs may deliver them: the warm bookkeeper keeps them one event.
    const bookkeeper = testBookkeeper(dynamo);
    await bookkeeper.handle(batchOf(lines.lines.slice(0, 2).join('')));
    await bookkeeper.handle(batchOf(lines.lines.slice(2).join('')));
    const { from, to } = window();
    const anonymous = (await eventsOf(deps.recording.audit, SYSTEM_TENANT, from, to)).filter((e) => e.type === 'auth.anonymous' && e.sourceIp === '192.0.2.44');
    expect(anonymous).toHaveLength(1);
    expect(anonymous[0]).toMatchObject({ reason: 'missing', details: { count: 4, credentialKind: 'none' } });
  });

  it('keeps the old signature working: settings without auditRetentionDays, no clients beyond dynamo', () => {
    const { auditRetentionDays: _unused, ...rest } = settings('enforce');
    const deps = buildAuthorizerDeps(rest, captureLog(), { dynamo: dynamo.doc });
    expect(typeof deps.onRefusal).toBe('function');
    expect(typeof deps.onKeyUse).toBe('function');
  });
});
