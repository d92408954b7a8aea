/**
 * Plans, below the gateway: the limiter of each container against quota counters in real dynalite, with an injected
 * clock. The documented bounds (docs/plans.md): a quota never overshoots across containers, and is refused at most
 * (containers − 1) × block units early; a rate is per container; a quota resets at its period's UTC boundary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseBlock, PlanLimiter } from '../../lambdas/core/plan-limiter.js';
import { PlanCatalog, periodWindow, planWithin, type Plan } from '../../lambdas/core/plans.js';
import { QuotaStore } from '../../lambdas/core/quota-store.js';
import { readSettings } from '../../lambdas/core/settings.js';
import { ConfigError } from '../../lambdas/core/errors.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';

let dynamo: TestDynamo;
let store: QuotaStore;

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-plans');
  store = new QuotaStore(dynamo.doc, dynamo.tableName);
});
afterAll(async () => dynamo?.stop());

/** A clock the test moves. */
function clock(startIso: string) {
  let now = Date.parse(startIso);
  return { now: () => now, advance: (ms: number) => (now += ms), set: (iso: string) => (now = Date.parse(iso)) };
}

let subjects = 0;
const subject = () => `KEY#plantest${String(++subjects).padStart(4, '0')}`;

describe('quota: exact within the documented bound', () => {
  it('one container: a key gets exactly its quota, then a quota refusal whose Retry-After is the time to the period end', async () => {
    const c = clock('2030-05-10T23:59:00.000Z');
    const limiter = new PlanLimiter({ leases: store, now: c.now });
    const plan: Plan = { name: 'tiny', quota: { limit: 7, period: 'day' } };
    const s = subject();
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(await limiter.check(s, plan));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(7);
    expect(outcomes.slice(0, 7).map((o) => o.quota?.remaining)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    const refused = outcomes[7]!;
    expect(refused).toMatchObject({ allowed: false, limit: 'quota', retryAfterSeconds: 60 });
    expect(await store.granted(s, periodWindow('day', c.now()).id)).toBe(7);
  });

  it('two containers at once cannot together exceed the quota; early refusal stays within (containers − 1) × block', async () => {
    const limit = 400;
    const block = leaseBlock(limit);
    expect(block).toBe(4);
    const c = clock('2030-06-01T12:00:00.000Z');
    const containers = [new PlanLimiter({ leases: store, now: c.now }), new PlanLimiter({ leases: store, now: c.now })];
    const plan: Plan = { name: 'shared', quota: { limit, period: 'month' } };
    const s = subject();
    // Both containers hammer the same key concurrently, well past its quota.
    const results = await Promise.all(containers.map(async (limiter) => {
      let allowed = 0;
      for (let i = 0; i < 300; i++) {
        const batch = await Promise.all(Array.from({ length: 2 }, () => limiter.check(s, plan)));
        allowed += batch.filter((o) => o.allowed).length;
      }
      return allowed;
    }));
    const total = results[0]! + results[1]!;
    expect(total).toBeLessThanOrEqual(limit);
    expect(total).toBeGreaterThanOrEqual(limit - (containers.length - 1) * block);
    expect(await store.granted(s, periodWindow('month', c.now()).id)).toBeLessThanOrEqual(limit);
  });

  it('a quota resets at the period boundary (UTC), and a new month starts a new counter', async () => {
    const c = clock('2030-01-31T23:59:59.000Z');
    const limiter = new PlanLimiter({ leases: store, now: c.now });
    const plan: Plan = { name: 'monthly', quota: { limit: 2, period: 'month' } };
    const s = subject();
    expect((await limiter.check(s, plan)).allowed).toBe(true);
    expect((await limiter.check(s, plan)).allowed).toBe(true);
    expect(await limiter.check(s, plan)).toMatchObject({ allowed: false, limit: 'quota', retryAfterSeconds: 1 });
    c.advance(1000); // 2030-02-01T00:00:00Z
    expect(await limiter.check(s, plan)).toMatchObject({ allowed: true, quota: { remaining: 1 } });
  });

  it('a plan change in the same period applies at once: a larger quota lifts a known exhaustion, a smaller one stops at its limit', async () => {
    const c = clock('2030-03-03T10:00:00.000Z');
    const limiter = new PlanLimiter({ leases: store, now: c.now });
    const s = subject();
    const small: Plan = { name: 'small', quota: { limit: 1, period: 'day' } };
    const large: Plan = { name: 'large', quota: { limit: 3, period: 'day' } };
    expect((await limiter.check(s, small)).allowed).toBe(true);
    expect((await limiter.check(s, small)).allowed).toBe(false);
    expect((await limiter.check(s, large)).allowed).toBe(true);
    expect((await limiter.check(s, large)).allowed).toBe(true);
    expect((await limiter.check(s, large)).allowed).toBe(false);
  });
});

describe('rate: a token bucket per container', () => {
  it('allows the burst at once, then refuses with Retry-After until the rate refills a token; a refusal spends no quota', async () => {
    const c = clock('2030-07-07T07:07:07.000Z');
    const limiter = new PlanLimiter({ leases: store, now: c.now });
    const plan: Plan = { name: 'slow', rate: 0.5, burst: 3, quota: { limit: 100, period: 'day' } };
    const s = subject();
    for (let i = 0; i < 3; i++) expect((await limiter.check(s, plan)).allowed).toBe(true);
    const refused = await limiter.check(s, plan);
    expect(refused).toMatchObject({ allowed: false, limit: 'rate', retryAfterSeconds: 2 });
    c.advance(1000);
    expect((await limiter.check(s, plan)).allowed).toBe(false);
    c.advance(1000);
    const next = await limiter.check(s, plan);
    expect(next).toMatchObject({ allowed: true, quota: { remaining: 96 } });
  });

  it('a plan without limits costs nothing: no store call', async () => {
    let calls = 0;
    const limiter = new PlanLimiter({ leases: { lease: () => ((calls += 1), Promise.resolve({ granted: 1, total: 1 })) } });
    for (let i = 0; i < 100; i++) expect((await limiter.check('KEY#free', { name: 'unlimited' })).allowed).toBe(true);
    expect(calls).toBe(0);
  });

  it('store calls per allowed request are 1 / block: one lease write per 1 % of the quota', async () => {
    let calls = 0;
    const counting = { lease: (...args: Parameters<QuotaStore['lease']>) => ((calls += 1), store.lease(...args)) };
    const limiter = new PlanLimiter({ leases: counting });
    const plan: Plan = { name: 'big', quota: { limit: 100_000, period: 'month' } };
    const s = subject();
    for (let i = 0; i < 3000; i++) await limiter.check(s, plan);
    expect(calls).toBe(3);
  });

  it('a store failure while leasing fails closed: it throws, never allows', async () => {
    const limiter = new PlanLimiter({ leases: { lease: () => Promise.reject(new Error('down')) } });
    await expect(limiter.check('KEY#x', { name: 'q', quota: { limit: 5, period: 'day' } })).rejects.toThrow('down');
  });
});

describe('which plans a caller may give a key', () => {
  const free = { rate: 5, burst: 10, quota: { limit: 1000, period: 'day' as const } };
  const pro = { rate: 50, burst: 100, quota: { limit: 100_000, period: 'month' as const } };
  it('no looser in any limit: rate, burst, quota (different periods compared at their worst)', () => {
    expect(planWithin(free, pro)).toBe(true); // 1000/day × 31 ≤ 100 000/month × (28/28)
    expect(planWithin(pro, free)).toBe(false);
    expect(planWithin({ rate: 5, burst: 11, quota: free.quota }, free)).toBe(false);
    expect(planWithin({ rate: 5, burst: 10 }, free)).toBe(false); // no quota is looser than any quota
    expect(planWithin({ quota: { limit: 4000, period: 'day' } }, { quota: { limit: 100_000, period: 'month' } })).toBe(false); // 124 000 a long month
    expect(planWithin(pro, {})).toBe(true); // unlimited holds everything
  });

  it('tokens: by client id, then the first listed group, then the default', () => {
    const catalog = new PlanCatalog({
      plans: { free, pro },
      defaultPlan: 'free',
      adminPlan: 'unlimited',
      tokens: { clientIds: { 'batch-client': 'pro' }, groups: [{ group: 'partners', plan: 'pro' }] },
    });
    expect(catalog.forToken('batch-client', [])).toBe('pro');
    expect(catalog.forToken('other', ['users', 'partners'])).toBe('pro');
    expect(catalog.forToken('other', ['users'])).toBe('free');
    expect(catalog.forToken('constructor', [])).toBe('free'); // an own-property lookup, not the prototype's
  });

  it('settings refuse a plan configuration naming an undefined plan, redefining unlimited, or a burst without a rate', () => {
    const read = (value: unknown) => readSettings(['plans'], { GATEHOUSE_PLANS: JSON.stringify(value) });
    expect(() => read({ plans: { free }, defaultPlan: 'gold' })).toThrow(ConfigError);
    expect(() => read({ plans: { unlimited: free } })).toThrow(ConfigError);
    expect(() => read({ plans: { odd: { burst: 3 } } })).toThrow(ConfigError);
    expect(() => read({ plans: { 'Bad Name': free } })).toThrow(ConfigError);
    expect(read({ plans: { free }, defaultPlan: 'free' }).plans.defaultPlan).toBe('free');
  });
});
