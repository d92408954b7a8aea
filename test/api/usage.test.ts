/** Usage: the recorder's batching (injected clock, counting store), the store on real dynalite, and GET /v1/usage. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../lambdas/api/services.js';
import { createUsageHandler } from '../../lambdas/api/usage/operations.js';
import { UsageRecorder, type UsageSink } from '../../lambdas/core/usage-recorder.js';
import { decodeUsagePageToken, encodeUsagePageToken, UsageStore } from '../../lambdas/core/usage-store.js';
import { ALL_SCOPES } from '../../lambdas/routes.js';
import type { Principal } from '../../lambdas/core/principal.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { captureLog } from '../support/capture-log.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { testServices } from '../support/services.js';

let dynamo: TestDynamo;
let services: Services;

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-usage');
  services = testServices(dynamo);
});
afterAll(() => dynamo.stop());

interface Write {
  keyId: string;
  tenant: string;
  count: number;
  lastUsedAt: string;
  /** The clock when the write was made. */
  writtenAt: number;
}

function countingStore(behaviour: (w: Write) => Promise<void> = () => Promise.resolve(), now: () => number = Date.now): UsageSink & { writes: Write[] } {
  const writes: Write[] = [];
  return {
    writes,
    add: (keyId, tenant, count, lastUsedAt) => {
      const w = { keyId, tenant, count, lastUsedAt, writtenAt: now() };
      writes.push(w);
      return behaviour(w);
    },
  };
}

const total = (writes: Write[], keyId?: string) => writes.filter((w) => keyId === undefined || w.keyId === keyId).reduce((n, w) => n + w.count, 0);

describe('UsageRecorder', () => {
  it('writes a key at most once per interval, and the counts add up across flushes', async () => {
    const clock = { t: 1_000_000 };
    const store = countingStore(undefined, () => clock.t);
    const recorder = new UsageRecorder({ store, log: captureLog(), now: () => clock.t, flushIntervalMs: 60_000 });

    // 10 minutes of traffic, one request per second on key A, every third second on key B.
    let sentA = 0;
    let sentB = 0;
    for (let s = 0; s < 600; s++) {
      recorder.record('keyAAAAAAAAA', 'tenant-a');
      sentA++;
      if (s % 3 === 0) {
        recorder.record('keyBBBBBBBBB', 'tenant-b');
        sentB++;
      }
      clock.t += 1000;
    }
    const flushTimes = (keyId: string) => store.writes.filter((w) => w.keyId === keyId).map((w) => w.writtenAt);
    for (const keyId of ['keyAAAAAAAAA', 'keyBBBBBBBBB']) {
      const times = flushTimes(keyId);
      expect(times.length).toBe(10); // the first use at once, then every 60 s of the 600 s
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(60_000);
    }
    // lastUsedAt is the latest counted request of the batch.
    const lastA = store.writes.filter((w) => w.keyId === 'keyAAAAAAAAA').at(-1)!;
    expect(Date.parse(lastA.lastUsedAt)).toBe(lastA.writtenAt);
    expect(store.writes.every((w) => w.tenant === (w.keyId === 'keyAAAAAAAAA' ? 'tenant-a' : 'tenant-b'))).toBe(true);

    await recorder.flushAll();
    expect(total(store.writes, 'keyAAAAAAAAA')).toBe(sentA);
    expect(total(store.writes, 'keyBBBBBBBBB')).toBe(sentB);
    expect(recorder.pendingRequests).toBe(0);
  });

  it('writes a key that went quiet once the interval passes, on any later activity', () => {
    const clock = { t: 0 };
    const store = countingStore();
    const recorder = new UsageRecorder({ store, log: captureLog(), now: () => clock.t, flushIntervalMs: 60_000 });
    recorder.record('quietkey0001', 't'); // written at once (first use)
    recorder.record('quietkey0001', 't');
    recorder.record('quietkey0001', 't'); // two pending
    expect(store.writes).toHaveLength(1);
    clock.t += 61_000;
    recorder.sweep(); // the authorizer handler calls this on every invocation
    expect(store.writes).toHaveLength(2);
    expect(store.writes[1]).toMatchObject({ keyId: 'quietkey0001', count: 2 });
  });

  it('never makes the caller wait for the store', () => {
    const store = countingStore(() => new Promise<void>(() => undefined)); // never settles
    const recorder = new UsageRecorder({ store, log: captureLog() });
    const started = performance.now();
    for (let i = 0; i < 1000; i++) recorder.record(`k${String(i % 10).padStart(11, '0')}`, 't');
    expect(performance.now() - started).toBeLessThan(500);
    expect(store.writes).toHaveLength(10);
  });

  it('never throws into the caller when the store fails, logs, and writes the counts later', async () => {
    const clock = { t: 0 };
    let failing = true;
    const store = countingStore(() => (failing ? Promise.reject(new Error('dynamo down')) : Promise.resolve()));
    const throwingStore: UsageSink = {
      add: (...args) => {
        if (failing && args[2] > 100) throw new Error('synchronous failure');
        return store.add(...args);
      },
    };
    const log = captureLog();
    const recorder = new UsageRecorder({ store: throwingStore, log, now: () => clock.t, flushIntervalMs: 1000 });
    for (let i = 0; i < 500; i++) {
      expect(() => recorder.record('failkey00001', 't')).not.toThrow();
      clock.t += 10;
    }
    await recorder.flushAll();
    expect(log.lines.some((l) => l.level === 'error' && l.message === 'usage flush failed')).toBe(true);
    expect(recorder.pendingRequests).toBe(500); // nothing lost
    failing = false;
    await recorder.flushAll();
    const succeeded = store.writes.slice(-1)[0]!;
    expect(succeeded.count).toBe(500);
    expect(recorder.pendingRequests).toBe(0);
  });

  it('bounds memory: past maxKeys the least recently used key is written and dropped', async () => {
    const store = countingStore();
    const recorder = new UsageRecorder({ store, log: captureLog(), maxKeys: 5, now: () => 0 });
    for (let i = 0; i < 20; i++) {
      recorder.record(`evict${String(i).padStart(7, '0')}`, 't');
      recorder.record(`evict${String(i).padStart(7, '0')}`, 't');
    }
    await recorder.flushAll();
    expect(total(store.writes)).toBe(40);
    expect(recorder.pendingRequests).toBe(0);
  });
});

describe('UsageStore', () => {
  it('adds counts and keeps the latest lastUsedAt whatever order the flushes arrive in', async () => {
    const store = new UsageStore(dynamo.doc, dynamo.tableName);
    await store.add('orderkey0001', 'order-t', 5, '2030-01-01T00:00:10.000Z');
    await store.add('orderkey0001', 'order-t', 3, '2030-01-01T00:00:05.000Z'); // older batch from another container
    await store.add('orderkey0001', 'order-t', 2, '2030-01-01T00:00:10.000Z'); // same instant
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.add('orderkey0001', 'order-t', 1, `2030-01-01T00:01:0${i}.000Z`)));
    expect(await store.listForTenant('order-t')).toEqual([{ keyId: 'orderkey0001', requests: 20, lastUsedAt: '2030-01-01T00:01:09.000Z' }]);
  });
});

describe('GET /v1/usage', () => {
  const call = async (who: Principal, query?: Record<string, string>) => {
    const handler = createUsageHandler(services);
    const res = await handler(apiEvent({ method: 'GET', path: '/v1/usage', principal: who, ...(query ? { query } : {}) }), lambdaContext());
    return {
      status: res.statusCode,
      body: bodyOf<{ usage: { keyId: string; requests: number; lastUsedAt: string }[]; nextToken?: string; code?: string; errors?: { field: string }[] }>(res),
    };
  };

  beforeAll(async () => {
    const recorder = new UsageRecorder({ store: services.usage, log: captureLog(), now: () => Date.parse('2030-02-02T02:02:02.000Z') });
    for (let i = 0; i < 7; i++) recorder.record('routekeyA001', 'route-a');
    for (let i = 0; i < 3; i++) recorder.record('routekeyA002', 'route-a');
    for (let i = 0; i < 4; i++) recorder.record('routekeyB001', 'route-b');
    await recorder.flushAll();
  });

  it("answers the caller's tenant's keys only", async () => {
    const a = await call(principal('route-a'));
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      usage: [
        { keyId: 'routekeyA001', requests: 7, lastUsedAt: '2030-02-02T02:02:02.000Z' },
        { keyId: 'routekeyA002', requests: 3, lastUsedAt: '2030-02-02T02:02:02.000Z' },
      ],
    });
    const b = await call(principal('route-b'));
    expect(b.body.usage.map((u) => u.keyId)).toEqual(['routekeyB001']);
    // Administrators too see only their own tenant here.
    const admin = await call(principal('admin', ALL_SCOPES, { admin: true }));
    expect(admin.body.usage).toEqual([]);
  });

  it("narrows to one key; another tenant's key has no usage", async () => {
    expect((await call(principal('route-a'), { keyId: 'routekeyA002' })).body.usage).toEqual([
      { keyId: 'routekeyA002', requests: 3, lastUsedAt: '2030-02-02T02:02:02.000Z' },
    ]);
    const foreign = await call(principal('route-a'), { keyId: 'routekeyB001' });
    expect(foreign.status).toBe(200);
    expect(foreign.body.usage).toEqual([]);
  });

  it('refuses a malformed keyId or unknown parameter with 400 naming it, and a missing scope with 403', async () => {
    const bad = await call(principal('route-a'), { keyId: 'gth_test_x' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.field)).toEqual(['keyId']);
    const unknown = await call(principal('route-a'), { tenant: 'route-b' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.map((e) => e.field)).toEqual(['tenant']);
    const noScope = await call(principal('route-a', ['keys:read']));
    expect(noScope.status).toBe(403);
  });

  it('pages with limit and nextToken; no token on the last page; bad limits and forged tokens are 400 naming them', async () => {
    const first = await call(principal('route-a'), { limit: '1' });
    expect(first.body.usage.map((u) => u.keyId)).toEqual(['routekeyA001']);
    expect(decodeUsagePageToken(first.body.nextToken!)).toBe('routekeyA001');
    const second = await call(principal('route-a'), { limit: '1', nextToken: first.body.nextToken! });
    expect(second.body).toEqual({ usage: [{ keyId: 'routekeyA002', requests: 3, lastUsedAt: '2030-02-02T02:02:02.000Z' }] });
    // The default page holds them all (1000 rows), with no token.
    expect((await call(principal('route-a'))).body).not.toHaveProperty('nextToken');

    for (const limit of ['0', '1001', 'x', '-1']) {
      const bad = await call(principal('route-a'), { limit });
      expect(bad.status).toBe(400);
      expect(bad.body.errors?.map((e) => e.field)).toEqual(['limit']);
    }
    const forged = [
      'not a token!',
      Buffer.from('{"v":1,"after":"short"}').toString('base64url'),
      Buffer.from('{"v":1,"after":"routekeyA001","pk":"USAGE#route-b"}').toString('base64url'),
      `${encodeUsagePageToken('routekeyA001')}=`,
      'A'.repeat(500),
    ];
    for (const nextToken of forged) {
      const bad = await call(principal('route-a'), { nextToken });
      expect(bad.status).toBe(400);
      expect(bad.body.errors?.map((e) => e.field)).toEqual(['nextToken']);
    }
    await expect(services.usage.page('route-a', { nextToken: 'bogus!' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it("a token carries a position only: another tenant's token pages through the caller's own rows", async () => {
    const aToken = (await call(principal('route-a'), { limit: '1' })).body.nextToken!;
    const b = await call(principal('route-b'), { nextToken: aToken });
    expect(b.status).toBe(200);
    // route-b's only key sorts after routekeyA001, so it is the page; route-a's rows never appear.
    expect(b.body.usage.map((u) => u.keyId)).toEqual(['routekeyB001']);
  });
});
