/**
 * Stage throttling (API Gateway's token bucket: GATEHOUSE_THROTTLE_RATE_LIMIT per second, bursts of
 * GATEHOUSE_THROTTLE_BURST_LIMIT): over it, the THROTTLED gateway response (429 envelope, Retry-After), before the
 * authorizer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_RESPONSES } from '../../lambdas/core/gateway-responses.js';
import { startTestStack, type TestStack } from './support.js';

const RATE = 2;
const BURST = 5;

let stack: TestStack;
let invocations = 0;

beforeAll(async () => {
  stack = await startTestStack({
    env: { GATEHOUSE_THROTTLE_RATE_LIMIT: String(RATE), GATEHOUSE_THROTTLE_BURST_LIMIT: String(BURST) },
    intercept: {
      authorizer: (_event, real) => {
        invocations += 1;
        return real();
      },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('stage throttling', () => {
  it('a burst beyond the bucket is THROTTLED (429, Retry-After) without reaching the authorizer; tokens come back at the rate', async () => {
    const throttled = GATEWAY_RESPONSES.find((r) => r.type === 'THROTTLED')!;
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 12 }, () => stack.api('/v1/whoami', { headers: { authorization: 'Bearer nope' } })));
    const elapsedS = (Date.now() - started) / 1000;
    const passed = responses.filter((r) => r.status === 401);
    const limited = responses.filter((r) => r.status === 429);
    expect(passed.length + limited.length).toBe(12);
    expect(passed.length).toBeGreaterThanOrEqual(BURST);
    expect(passed.length).toBeLessThanOrEqual(BURST + Math.ceil(elapsedS * RATE));
    expect(invocations).toBe(passed.length);
    for (const res of limited) {
      expect(res.headers.get('retry-after')).toBe(throttled.headers['Retry-After']);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', detail: throttled.detail });
    }
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE + 100));
    expect((await stack.api('/health')).status).toBe(200);
  });
});
