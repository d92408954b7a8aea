/** Usage: the bookkeeper's per-batch writes (counting writer, and the real table), the store on real dynalite, and GET /v1/usage. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../lambdas/api/services.js';
import { createUsageHandler } from '../../lambdas/api/usage/operations.js';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { BookkeepingError, createBookkeeper, type UsageWriter } from '../../lambdas/bookkeeper/bookkeeper.js';
import { usageLine } from '../../lambdas/core/bookkeeping-channel.js';
import type { CountableAuditSink } from '../../lambdas/core/refusal-recorder.js';
import {
  decodeUsagePageToken,
  encodeUsagePageToken,
  USAGE_BATCH_IDS_HIGH,
  USAGE_BATCH_IDS_KEEP,
  UsageStore,
  type UsageAddResult,
} from '../../lambdas/core/usage-store.js';
import { ALL_SCOPES } from '../../lambdas/routes.js';
import type { Principal } from '../../lambdas/core/principal.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { batchOf } from '../support/bookkeeping.js';
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
  batchId?: string;
}

/** A usage writer that records every ADD (and answers as the store would for a first write). */
function countingWriter(behaviour: (w: Write) => Promise<UsageAddResult> = () => Promise.resolve('added')): UsageWriter & { writes: Write[] } {
  const writes: Write[] = [];
  return {
    writes,
    add: (keyId, tenant, count, lastUsedAt, batchId) => {
      const w = { keyId, tenant, count, lastUsedAt, ...(batchId === undefined ? {} : { batchId }) };
      writes.push(w);
      return behaviour(w);
    },
  };
}

/** Usage-only batches never touch the audit sink. */
const failingAudit: CountableAuditSink = {
  record: () => Promise.reject(new Error('no audit expected')),
  updateDetails: () => Promise.reject(new Error('no audit expected')),
};

const total = (writes: Write[], keyId?: string) => writes.filter((w) => keyId === undefined || w.keyId === keyId).reduce((n, w) => n + w.count, 0);
const at = (iso: string) => Date.parse(iso);
const lines = (uses: [keyId: string, tenant: string, atMs: number][]) => uses.map(([k, t, ms]) => usageLine(k, t, ms)).join('');

describe('the bookkeeper: usage', () => {
  it('writes one ADD per key per batch, and the counts add up across batches', async () => {
    const usage = countingWriter();
    const bookkeeper = createBookkeeper({ usage, audit: failingAudit, log: captureLog() });
    let sentA = 0;
    let sentB = 0;
    const base = at('2030-01-01T00:00:00.000Z');
    for (let batch = 0; batch < 3; batch++) {
      const uses: [string, string, number][] = [];
      for (let s = 0; s < 60; s++) {
        uses.push(['keyAAAAAAAAA', 'tenant-a', base + batch * 60_000 + s * 1000]);
        sentA++;
        if (s % 3 === 0) {
          uses.push(['keyBBBBBBBBB', 'tenant-b', base + batch * 60_000 + s * 1000]);
          sentB++;
        }
      }
      const before = usage.writes.length;
      const outcome = await bookkeeper.handle(batchOf(lines(uses)));
      expect(usage.writes.length - before).toBe(2); // one per key, whatever the batch holds
      expect(outcome).toMatchObject({ usageLines: 80, usageKeys: 2, refusalLines: 0, ignoredLines: 0 });
      // lastUsedAt is the batch's latest use of the key.
      expect(usage.writes.at(-2)?.lastUsedAt ?? '').toMatch(/^2030-01-01T00:0\d:5\d\.000Z$/);
    }
    expect(total(usage.writes, 'keyAAAAAAAAA')).toBe(sentA);
    expect(total(usage.writes, 'keyBBBBBBBBB')).toBe(sentB);
    expect(usage.writes.every((w) => w.tenant === (w.keyId === 'keyAAAAAAAAA' ? 'tenant-a' : 'tenant-b'))).toBe(true);
    expect(new Set(usage.writes.map((w) => w.batchId)).size).toBe(3);
  });

  it('a failed write fails the batch; the retried batch is counted exactly once per key (real table)', async () => {
    const store = new UsageStore(dynamo.doc, dynamo.tableName);
    let failB = true;
    const usage: UsageWriter = {
      add: (keyId, tenant, count, lastUsedAt, batchId) =>
        keyId === 'retrykeyB001' && failB ? Promise.reject(new Error('throttled')) : store.add(keyId, tenant, count, lastUsedAt, batchId),
    };
    const log = captureLog();
    const bookkeeper = createBookkeeper({ usage, audit: failingAudit, log });
    const batch = batchOf(
      lines([
        ['retrykeyA001', 'retry-t', at('2030-03-03T00:00:01.000Z')],
        ['retrykeyA001', 'retry-t', at('2030-03-03T00:00:02.000Z')],
        ['retrykeyB001', 'retry-t', at('2030-03-03T00:00:03.000Z')],
      ]),
    );
    await expect(bookkeeper.handle(batch)).rejects.toBeInstanceOf(BookkeepingError);
    expect(log.lines.some((l) => l.level === 'error' && l.message === 'usage write failed')).toBe(true);
    failB = false;
    // CloudWatch Logs redelivers the same batch, to this container or another one: exact either way.
    const retried = await bookkeeper.handle(batch);
    expect(retried).toMatchObject({ usageKeys: 2, duplicateKeys: 1 });
    expect(await createBookkeeper({ usage: store, audit: failingAudit, log }).handle(batch)).toMatchObject({ duplicateKeys: 2 });
    expect(await store.listForTenant('retry-t')).toEqual([
      { keyId: 'retrykeyA001', requests: 2, lastUsedAt: '2030-03-03T00:00:02.000Z' },
      { keyId: 'retrykeyB001', requests: 1, lastUsedAt: '2030-03-03T00:00:03.000Z' },
    ]);
  });

  it('ignores lines that are not well-formed bookkeeping lines, without logging their content', async () => {
    const usage = countingWriter();
    const log = captureLog();
    const bookkeeper = createBookkeeper({ usage, audit: failingAudit, log });
    const forged = [
      '{"gatehouseRecord":"usage","keyId":"not-a-key-id!","tenant":"t","at":1}',
      '{"gatehouseRecord":"usage","keyId":"junkkey00001","tenant":"","at":1}',
      '{"gatehouseRecord":"usage","keyId":"junkkey00001","tenant":"t","at":"yesterday"}',
      `{"gatehouseRecord":"usage","keyId":"junkkey00001","tenant":"${'x'.repeat(300)}","at":1}`,
      '{"gatehouseRecord":"refusal","reason":"unknown"}',
      '{"gatehouseRecord":"usage","keyId":"junkkey00001","tenant":"t","at":1',
    ];
    const batch = { source: 'g/s', lines: forged.map((message, i) => ({ id: String(i), timestamp: 1, message })) };
    expect(await bookkeeper.handle(batch)).toMatchObject({ usageLines: 0, refusalLines: 0, ignoredLines: forged.length });
    expect(usage.writes).toEqual([]);
    expect(log.text()).not.toContain('junkkey00001');
  });
});

describe('UsageStore batch ids', () => {
  it('keeps the set of batch ids bounded, and still knows the recent ones', async () => {
    const store = new UsageStore(dynamo.doc, dynamo.tableName);
    const id = (i: number) => `${(1_900_000_000 + i).toString(36)}.batch${String(i).padStart(4, '0')}`;
    for (let i = 0; i < 3 * USAGE_BATCH_IDS_HIGH; i++) expect(await store.add('trimkey00001', 'trim-t', 1, '2030-04-04T00:00:00.000Z', id(i))).toBe('added');
    const item = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: 'USAGE#trim-t', sk: 'KEY#trimkey00001' } }));
    const kept = item.Item?.batches as Set<string>;
    expect(kept.size).toBeLessThanOrEqual(USAGE_BATCH_IDS_HIGH);
    expect(kept.size).toBeGreaterThanOrEqual(USAGE_BATCH_IDS_KEEP);
    // The newest ids are kept: a retry of the latest batches is recognised.
    for (let i = 3 * USAGE_BATCH_IDS_HIGH - USAGE_BATCH_IDS_KEEP; i < 3 * USAGE_BATCH_IDS_HIGH; i++) {
      expect(await store.add('trimkey00001', 'trim-t', 1, '2030-04-04T00:00:00.000Z', id(i))).toBe('duplicate');
    }
    expect((await store.listForTenant('trim-t'))[0]?.requests).toBe(3 * USAGE_BATCH_IDS_HIGH);
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
    const when = Date.parse('2030-02-02T02:02:02.000Z');
    const uses: [string, string, number][] = [
      ...Array.from({ length: 7 }, (): [string, string, number] => ['routekeyA001', 'route-a', when]),
      ...Array.from({ length: 3 }, (): [string, string, number] => ['routekeyA002', 'route-a', when]),
      ...Array.from({ length: 4 }, (): [string, string, number] => ['routekeyB001', 'route-b', when]),
    ];
    await createBookkeeper({ usage: services.usage, audit: failingAudit, log: captureLog() }).handle(batchOf(lines(uses)));
  });

  it("answers the caller's tenant's keys only", async () => {
    const a = await call(principal('route-a'));
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      usage: [
        { keyId: 'routekeyA001', requests: 7, lastUsedAt: '2030-02-02T02:02:02.000Z', plan: 'unlimited' },
        { keyId: 'routekeyA002', requests: 3, lastUsedAt: '2030-02-02T02:02:02.000Z', plan: 'unlimited' },
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
      { keyId: 'routekeyA002', requests: 3, lastUsedAt: '2030-02-02T02:02:02.000Z', plan: 'unlimited' },
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
    expect(second.body).toEqual({ usage: [{ keyId: 'routekeyA002', requests: 3, lastUsedAt: '2030-02-02T02:02:02.000Z', plan: 'unlimited' }] });
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
