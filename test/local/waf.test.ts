/**
 * The WAF rate-based rules of CONTRACT §5, from the same settings CDK deploys (GATEHOUSE_RATE_LIMIT_*): WAF runs
 * before routing and before the authorizer; one rule per client IP, one per credential header (a request without
 * the header is not counted by that rule), which locally share one budget per credential; a block is 429 in the
 * envelope with Retry-After (WAF_RATE_LIMITED).
 * Each test sends from its own loopback address (127.0.0.x), so per-IP counts do not mix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAF_RATE_LIMITED } from '../../lambdas/core/gateway-responses.js';
import { WAF_RATE_RULES } from '../../local/gateway/waf.js';
import { WAF_REQUEST_ID } from '../../lambdas/core/waf-rules.js';
import { requestFrom, startTestStack, type TestStack } from './support.js';

const PER_IP = 25;
const PER_CREDENTIAL = 10;

let stack: TestStack;
let invocations = 0;

beforeAll(async () => {
  stack = await startTestStack({
    env: { GATEHOUSE_RATE_LIMIT_PER_IP: String(PER_IP), GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: String(PER_CREDENTIAL) },
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

const send = (from: string, path: string, headers: Record<string, string> = {}) => requestFrom(from, `${stack.apiUrl}${path}`, { headers });

function expectWafBlock(res: Awaited<ReturnType<typeof send>>): void {
  expect(res.status).toBe(429);
  // AWS WAF refuses a custom Content-Type on its responses and derives application/json from the body type; its
  // bodies are static, so the envelope's requestId is a placeholder and the real id travels in x-amzn-RequestId.
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.headers['retry-after']).toBe(String(WAF_RATE_LIMITED.retryAfterSeconds));
  expect(res.headers['x-amzn-requestid']).toMatch(/.+/);
  expect(JSON.parse(res.body)).toMatchObject({ status: 429, code: 'RATE_LIMITED', detail: WAF_RATE_LIMITED.detail, requestId: WAF_REQUEST_ID });
}

describe('WAF rate-based rules', () => {
  it('are one rule per IP and one per credential header, limited by the shared settings', () => {
    expect(WAF_RATE_RULES.map((r) => [r.aggregateKey, r.limitSetting])).toEqual([
      [{ kind: 'ip' }, 'rateLimitPerIp'],
      [{ kind: 'header', name: 'authorization' }, 'rateLimitPerCredential'],
      [{ kind: 'header', name: 'x-api-key' }, 'rateLimitPerCredential'],
    ]);
    expect(stack.settings).toMatchObject({ rateLimitPerIp: PER_IP, rateLimitPerCredential: PER_CREDENTIAL, rateLimitWindowSeconds: 60 });
  });

  it('per credential (Authorization): over the limit in the window is 429 with Retry-After, before the authorizer runs; another credential is counted apart', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < PER_CREDENTIAL; i++) expect((await send(from, '/v1/whoami', { authorization: 'Bearer not-a-key-A' })).status).toBe(401);
    invocations = 0;
    expectWafBlock(await send(from, '/v1/whoami', { authorization: 'Bearer not-a-key-A' }));
    expectWafBlock(await send(from, '/health', { authorization: 'Bearer not-a-key-A' })); // before routing: public routes too
    expect(invocations).toBe(0);
    expect((await send(from, '/v1/whoami', { authorization: 'Bearer not-a-key-B' })).status).toBe(401);
    expect((await send(from, '/health')).status).toBe(200);
  });

  it('per credential (X-API-Key): the same credential in Authorization draws on the same budget (local: one budget per credential)', async () => {
    const from = '127.0.0.3';
    for (let i = 0; i < PER_CREDENTIAL / 2; i++) {
      expect((await send(from, '/v1/whoami', { 'x-api-key': 'not-a-key-C' })).status).toBe(401);
      expect((await send(from, '/v1/whoami', { authorization: 'Bearer not-a-key-C' })).status).toBe(401);
    }
    expectWafBlock(await send(from, '/v1/whoami', { 'x-api-key': 'not-a-key-C' }));
    expectWafBlock(await send(from, '/v1/whoami', { authorization: 'bearer\tNOT-A-KEY-C' }));
    // Both headers with the same credential are one request against that budget; another credential is counted apart.
    expect((await send(from, '/v1/whoami', { 'x-api-key': 'not-a-key-D', authorization: 'Bearer not-a-key-D' })).status).toBe(401);
  });

  it('requests with no credential header are not counted per credential; the per-IP rule then blocks the IP, other IPs unaffected', async () => {
    const from = '127.0.0.4';
    for (let i = 0; i < PER_IP; i++) expect((await send(from, '/health')).status).toBe(200);
    expectWafBlock(await send(from, '/health'));
    expectWafBlock(await send(from, '/v1/whoami', { 'x-api-key': 'fresh-credential' }));
    expect((await send('127.0.0.5', '/health')).status).toBe(200);
  });
});
