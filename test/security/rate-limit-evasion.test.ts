/**
 * The per-credential rate rule (CONTRACT §5) against one credential spelled many ways, through the local gateway
 * (whose WAF rules and text transformations are the definitions CDK deploys). The authorizer accepts `Bearer` in any
 * case and any run of spaces or tabs after it, so one key has unboundedly many spellings; the rules key on the
 * header value after LOWERCASE and COMPRESS_WHITE_SPACE, so every spelling counts in one bucket.
 *
 * F8 (fixed): re-spelling the Authorization header no longer yields fresh budgets. Padding and the choice of header
 * are finding 11.10 (local-stack-round2.test.ts): locally one credential has exactly one budget; in AWS the limits
 * of WAF leave a key up to five (see infra/waf-stack.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { call, startTestStack } from './support/http.js';

const LIMIT = 10;
let stack: LocalStack;
let key = '';

beforeAll(async () => {
  stack = await startTestStack({ GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: String(LIMIT), GATEHOUSE_RATE_LIMIT_PER_IP: '100000', GATEHOUSE_THROTTLE_BURST_LIMIT: '5000', GATEHOUSE_THROTTLE_RATE_LIMIT: '10000' });
  const created = await call<{ key: string }>(stack, 'POST', '/v1/keys', { credential: { key: stack.config.adminKey }, body: { name: 'rl', scopes: ['items:read'] } });
  key = created.json.key;
}, 30_000);
afterAll(() => stack?.close());

describe('per-credential rate limit', () => {
  it('control: the same header value more than the limit → 429 with Retry-After, in the envelope', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i <= LIMIT; i++) {
      last = await call(stack, 'GET', '/v1/whoami', { headers: { Authorization: `Bearer ${key}` } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
    expect(last!.headers.get('retry-after')).toBeTruthy();
    expect(last!.json).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
  });

  it('F8: the same key under 3 × the limit different spellings of "Bearer <key>" is still limited', async () => {
    const spellings = Array.from({ length: 3 * LIMIT }, (_, i) => {
      const scheme = [...'bearer'].map((c, j) => ((i >> j) & 1 ? c.toUpperCase() : c)).join('');
      return `${scheme}${' '.repeat(1 + (i % 3))}${key}`;
    });
    const statuses: number[] = [];
    for (const authorization of new Set(spellings)) {
      statuses.push((await call(stack, 'GET', '/v1/items', { headers: { Authorization: authorization } })).status);
    }
    // Every spelling is the same credential to the authorizer...
    expect(statuses.filter((s) => s !== 429).every((s) => s === 200)).toBe(true);
    // ...so no more than LIMIT of them may pass within the window.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(LIMIT);
  });
});
