/**
 * API Gateway's authorizer result cache (TTL > 0), which the deployment keeps OFF by default
 * (AUTHORIZER_CACHE_TTL_SECONDS = 0) — these tests show why both credential headers cannot be identity sources, and
 * that the local gateway reproduces the cache exactly when it is on: identity sources required, results cached per
 * identity values, the cached policy evaluated again per methodArn. Gateway cache mode (Authorization as the only
 * source) is tested in gateway-cache-mode.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUTHORIZER_CACHE_TTL_SECONDS, IDENTITY_SOURCES } from '../../local/gateway/identity-sources.js';
import { expectProblem, startTestStack, type TestStack } from './support.js';

let stack: TestStack;
let invocations = 0;

/** Both identity sources (Authorization and X-API-Key) carrying the same key. */
const both = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}`, 'x-api-key': key });

beforeAll(async () => {
  stack = await startTestStack({
    authorizerCacheTtlSeconds: 300,
    // The authorizer's own decision cache off, so only API Gateway's cache can remember a decision.
    env: { GATEHOUSE_CACHE_TTL_SECONDS: '0' },
    intercept: {
      authorizer: async (event, real) => {
        invocations += 1;
        const mode = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-conformance-policy')?.[1];
        if (mode !== 'first-route-only') return real();
        // The classic bug: a policy for the methodArn that happened to invoke the authorizer.
        const result = (await real()) as { principalId: string; context?: Record<string, unknown> };
        return {
          ...result,
          policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: event.methodArn }] },
        };
      },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  invocations = 0;
});

async function createKey(scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await stack.api('/v1/keys', {
    method: 'POST',
    headers: { ...both(stack.config.adminKey), 'content-type': 'application/json' },
    body: JSON.stringify({ name: `cache ${randomUUID()}`, scopes }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; key: string };
}

describe('authorizer result cache (TTL > 0)', () => {
  it('the default configuration keeps it off; a TTL without sources takes both credential headers as identity sources', () => {
    expect(AUTHORIZER_CACHE_TTL_SECONDS).toBe(0);
    expect(IDENTITY_SOURCES).toEqual(['method.request.header.Authorization', 'method.request.header.X-API-Key']);
  });

  it('caching on: a missing or empty identity source is a 401 without invoking the authorizer', async () => {
    const key = stack.config.adminKey;
    const cases: Record<string, string>[] = [{}, { authorization: `Bearer ${key}` }, { 'x-api-key': key }, { ...both(key), 'x-api-key': '' }, { ...both(key), authorization: ' ' }];
    for (const headers of cases) {
      const res = await stack.api('/v1/whoami', { headers });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
      await expectProblem(res, 401, 'AUTHENTICATION_FAILED');
    }
    expect(invocations).toBe(0);
  });

  it('one invocation per identity values; the cached policy is evaluated against each new methodArn (allowed routes pass, others 403)', async () => {
    const { key } = await createKey(['items:read']);
    invocations = 0;
    expect((await stack.api('/v1/items', { headers: both(key) })).status).toBe(200);
    expect(invocations).toBe(1);
    await expectProblem(await stack.api(`/v1/items/${randomUUID()}`, { headers: both(key) }), 404, 'NOT_FOUND'); // allowed, absent
    expect((await stack.api('/v1/whoami', { headers: both(key) })).status).toBe(200);
    await expectProblem(await stack.api('/v1/items', { method: 'POST', headers: { ...both(key), 'content-type': 'application/json' }, body: '{"name":"x"}' }), 403, 'PERMISSION_DENIED');
    await expectProblem(await stack.api('/v1/keys', { headers: both(key) }), 403, 'PERMISSION_DENIED');
    await expectProblem(await stack.api(`/v1/items/${randomUUID()}`, { method: 'DELETE', headers: both(key) }), 403, 'PERMISSION_DENIED');
    expect(invocations).toBe(1);
  });

  it('the cache key is the identity values themselves: the same key sent differently is another entry', async () => {
    const { key } = await createKey(['items:read']);
    invocations = 0;
    await stack.api('/v1/items', { headers: both(key) });
    await stack.api('/v1/items', { headers: { authorization: `bearer ${key}`, 'x-api-key': key } });
    expect(invocations).toBe(2);
  });

  it('a policy that allows only the first route 403s every other route from the cache (the most-reported authorizer bug)', async () => {
    const { key } = await createKey(['items:read', 'items:write']);
    invocations = 0;
    const first = await stack.api('/v1/whoami', { headers: { ...both(key), 'x-conformance-policy': 'first-route-only' } });
    expect(first.status).toBe(200);
    await expectProblem(await stack.api('/v1/items', { headers: both(key) }), 403, 'PERMISSION_DENIED');
    expect(invocations).toBe(1);
  });

  it('a cached Allow outlives a revocation for the whole TTL — why gateway cache mode bounds its TTL by the revocation window', async () => {
    const { id, key } = await createKey(['items:read']);
    expect((await stack.api('/v1/whoami', { headers: both(key) })).status).toBe(200);
    expect((await stack.api(`/v1/keys/${id}`, { method: 'DELETE', headers: both(stack.config.adminKey) })).status).toBe(204);
    invocations = 0;
    expect((await stack.api('/v1/whoami', { headers: both(key) })).status).toBe(200);
    expect(invocations).toBe(0);
    // The same key under other identity values is decided afresh: refused.
    await expectProblem(await stack.api('/v1/whoami', { headers: { authorization: `bearer ${key}`, 'x-api-key': key } }), 401, 'AUTHENTICATION_FAILED');
  });
});
