/**
 * The cost model of BENCHMARKS.md §6 (bench/cost-model.ts, bench/idle-cost.ts): its invocation formula against the
 * local gateway's own emulation of API Gateway's cache driven by simulated Poisson traffic, and the idle items
 * counted from the synthesised templates of both profiles.
 */
import { describe, expect, it } from 'vitest';
import { costModel, invocationsPerRequest, storeReadsPerRequest } from '../../bench/cost-model.js';
import { idleCostOf } from '../../bench/idle-cost.js';
import { PRICES } from '../../bench/prices.js';
import { AuthorizerResultCache } from '../../local/gateway/authorizer-cache.js';
import type { ValidAuthorizerResult } from '../../local/gateway/authorizer-result.js';
import { synthGatehouse, type TemplateResource } from '../infra/synth.js';

process.env.CDK_VALIDATION = 'false';

/** A deterministic pseudo-random generator (mulberry32), so the simulation is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESULT: ValidAuthorizerResult = { principalId: 'key:x', policyDocument: { Version: '2012-10-17', Statement: [] }, context: {} };

/** Requests at `rate` per second (Poisson) through the local gateway's cache with `ttl`: the share that invoked the authorizer. */
function simulatedInvocations(rate: number, ttl: number, requests = 20_000): number {
  const cache = new AuthorizerResultCache(ttl);
  const next = random(rate * 1000 + ttl);
  let now = 0;
  let invocations = 0;
  for (let i = 0; i < requests; i++) {
    now += (-Math.log(1 - next()) / rate) * 1000;
    if (cache.get('k', now) === undefined) {
      invocations++;
      cache.set('k', RESULT, now);
    }
  }
  return invocations / requests;
}

describe('per-request model', () => {
  it('without API Gateway’s cache every request is an invocation; with it, 1 / (1 + r·T)', () => {
    expect(invocationsPerRequest(100, 0)).toBe(1);
    expect(invocationsPerRequest(100, 5)).toBeCloseTo(1 / 501, 10);
    expect(invocationsPerRequest(0.1, 2)).toBeCloseTo(1 / 1.2, 10);
  });

  it.each([
    [0.1, 2],
    [1, 2],
    [10, 5],
    [100, 1],
  ])('matches the local gateway’s cache emulation under simulated Poisson traffic (%s requests/s, TTL %s s)', (rate, ttl) => {
    const simulated = simulatedInvocations(rate, ttl);
    expect(Math.abs(simulated - invocationsPerRequest(rate, ttl)) / invocationsPerRequest(rate, ttl)).toBeLessThan(0.05);
  });

  it('the decision cache turns only some invocations into store reads; with it off, every invocation reads', () => {
    expect(storeReadsPerRequest(10, 2, 0)).toBeCloseTo(invocationsPerRequest(10, 2), 10);
    expect(storeReadsPerRequest(10, 0, 3)).toBeCloseTo(1 / 31, 10);
    expect(storeReadsPerRequest(10, 2, 3)).toBeLessThan(invocationsPerRequest(10, 2));
  });

  it('prices an invocation from its billed milliseconds (1 ms at least), memory, architecture, reads and log bytes', () => {
    const m = costModel({ memoryMb: 1024, arm: true, keyHitNs: 3_000, keyMissOwnNs: 7_000, logBytesPerAllow: 1_000 });
    expect(m.billedHitMs).toBe(1);
    expect(m.billedMissMs).toBe(6); // 0.007 ms of own work + the assumed 5 ms read, rounded up
    const logs = (1_000 / 1e9) * PRICES.logsIngestionPerGb;
    expect(m.perInvocationHit).toBeCloseTo(PRICES.lambdaPerMillionRequests / 1e6 + 0.001 * PRICES.lambdaPerGbSecondArm + logs, 12);
    expect(m.perInvocationMiss).toBeCloseTo(PRICES.lambdaPerMillionRequests / 1e6 + 0.006 * PRICES.lambdaPerGbSecondArm + logs + PRICES.dynamoPerMillionReadUnits / 1e6, 12);
    // Cheaper per request the busier the client, and only with API Gateway's cache on.
    const at = (rate: number, column: number) => m.rows.find((r) => r.rate === rate)!.cells[column]!.perMillion;
    expect(at(100, 0)).toBeGreaterThan(at(100, 1));
    expect(at(100, 1)).toBeLessThan(at(0.1, 1));
  });
});

describe('idle cost from the templates', () => {
  const idle = (profile: string) => {
    const { templates } = synthGatehouse({ profile });
    const resources = Object.values(templates).flatMap((t) => Object.values((t.toJSON() as { Resources: Record<string, TemplateResource> }).Resources));
    return idleCostOf(profile, resources);
  };
  const item = (cost: ReturnType<typeof idleCostOf>, prefix: string) => cost.items.find((i) => i.item.startsWith(prefix))!;

  it('counts the interface endpoints per AZ of each profile (dev: Secrets Manager in 1 AZ; prod: Secrets Manager and X-Ray in 2) and no NAT', () => {
    const dev = idle('dev');
    const prod = idle('prod');
    expect(item(dev, 'interface VPC endpoints').count).toBe(1);
    expect(item(prod, 'interface VPC endpoints').count).toBe(4);
    expect(item(prod, 'NAT gateways').count).toBe(0);
    expect(prod.total - dev.total).toBeCloseTo(3 * 730 * PRICES.interfaceEndpointPerAzHour, 6);
  }, 60_000);

  it('counts the web ACL and its rules, the two secrets, the KMS key and every metric of every alarm', () => {
    const dev = idle('dev');
    expect(item(dev, 'WAF web ACLs').count).toBe(1);
    expect(item(dev, 'WAF rules').count).toBeGreaterThanOrEqual(7);
    expect(item(dev, 'Secrets Manager').count).toBe(2);
    expect(item(dev, 'KMS keys').count).toBe(1);
    // More alarm metrics than alarms: the throttle alarms sum one metric per function.
    expect(item(dev, 'CloudWatch alarm metrics').count).toBeGreaterThan(11);
  }, 60_000);
});
