/**
 * Gateway cache mode in the local stack (issue 16): GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS turns on the local
 * gateway's emulation of API Gateway's authorizer cache exactly as CDK deploys it (lambdas/core/gateway-cache.ts):
 * keyed on Authorization alone, the mode's 401 for a missing header, the cached policy evaluated per route, and
 * revocation within the window. Small TTLs (decision cache 1 s + gateway 2 s in a 3 s window) keep it quick.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseClient, apiKeyAuth, bearerAuth } from '../../client/index.js';
import { ConfigError } from '../../lambdas/core/errors.js';
import { GATEWAY_CACHE_UNAUTHORIZED_DETAIL } from '../../lambdas/core/gateway-cache.js';
import { GATEWAY_RESPONSES } from '../../lambdas/core/gateway-responses.js';
import { ROUTES } from '../../lambdas/routes.js';
import { bearer, expectProblem, machineToken, startTestStack, type TestStack } from './support.js';

const ENV = { GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '2', GATEHOUSE_CACHE_TTL_SECONDS: '1', GATEHOUSE_REVOCATION_WINDOW_SECONDS: '3' };

let stack: TestStack;
let invocations = 0;

beforeAll(async () => {
  stack = await startTestStack({
    env: ENV,
    intercept: {
      authorizer: async (_event, real) => {
        invocations += 1;
        return real();
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createKey(scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await stack.api('/v1/keys', {
    method: 'POST',
    headers: { ...bearer(stack.config.adminKey), 'content-type': 'application/json' },
    body: JSON.stringify({ name: `cache mode ${randomUUID()}`, scopes }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; key: string };
}

/** A concrete path for a route template. */
const pathOf = (template: string) => template.replace(/\{[^}]+\}/g, 'x0');

describe('gateway cache mode (GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS > 0)', () => {
  it('a request without Authorization — X-API-Key alone, or nothing — is a 401 whose detail says where the credential goes, before any authorizer', async () => {
    for (const headers of [{ 'x-api-key': stack.config.adminKey }, {}, { authorization: ' ' }] as Record<string, string>[]) {
      const res = await stack.api('/v1/whoami', { headers });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
      const problem = await expectProblem(res, 401, 'AUTHENTICATION_FAILED');
      expect(problem.detail).toBe(GATEWAY_CACHE_UNAUTHORIZED_DETAIL);
    }
    expect(invocations).toBe(0);
  });

  it('a refused credential in Authorization gets the same 401 (the authorizer ran)', async () => {
    const problem = await expectProblem(await stack.api('/v1/whoami', { headers: bearer('gth_test_not-a-key') }), 401, 'AUTHENTICATION_FAILED');
    expect(problem.detail).toBe(GATEWAY_CACHE_UNAUTHORIZED_DETAIL);
    expect(invocations).toBe(1);
  });

  it('other gateway responses are unchanged in this mode', async () => {
    const problem = await expectProblem(await stack.api('/v1/nowhere', { headers: bearer(stack.config.adminKey) }), 404, 'NOT_FOUND');
    expect(problem.detail).toBe(GATEWAY_RESPONSES.find((r) => r.type === 'MISSING_AUTHENTICATION_TOKEN')!.detail);
  });

  it('one invocation per Authorization value and TTL: a cached answer is right on every route (allowed ones pass, the others 403)', async () => {
    const { key } = await createKey(['items:read']);
    invocations = 0;
    expect((await stack.api('/v1/whoami', { headers: bearer(key) })).status).toBe(200);
    for (const route of ROUTES.filter((r) => r.auth === 'token')) {
      const res = await stack.api(pathOf(route.path), {
        method: route.method,
        headers: { ...bearer(key), 'content-type': 'application/json' },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: '{}' }),
      });
      await res.arrayBuffer();
      const allowed = route.scope === undefined || route.scope === 'items:read';
      if (allowed) expect([401, 403], `${route.method} ${route.path}`).not.toContain(res.status);
      else expect(res.status, `${route.method} ${route.path}`).toBe(403);
    }
    expect(invocations).toBe(1);
    // After the TTL the next request invokes the authorizer again.
    await sleep(2_100);
    expect((await stack.api('/v1/whoami', { headers: bearer(key) })).status).toBe(200);
    expect(invocations).toBe(2);
  });

  it('the caches keep a revoked key no longer than the revocation window (decision cache 1 s + gateway cache 2 s ≤ 3 s)', async () => {
    const { id, key } = await createKey(['items:read']);
    expect((await stack.api('/v1/whoami', { headers: bearer(key) })).status).toBe(200);
    expect((await stack.api(`/v1/keys/${id}`, { method: 'DELETE', headers: bearer(stack.config.adminKey) })).status).toBe(204);
    const revokedAt = Date.now();
    let refusedAfter: number | undefined;
    while (Date.now() - revokedAt < 6_000) {
      const res = await stack.api('/v1/whoami', { headers: bearer(key) });
      await res.arrayBuffer();
      if (res.status === 401) {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      expect(res.status).toBe(200);
      await sleep(50);
    }
    expect(refusedAfter).toBeDefined();
    expect(refusedAfter!).toBeLessThanOrEqual(3_000 + 100);
  });

  it('the Gatehouse client (API key and bearer token) works unchanged: it sends credentials in Authorization by default', async () => {
    const { key } = await createKey(['items:read']);
    const byKey = new GatehouseClient({ baseUrl: stack.apiUrl, auth: apiKeyAuth(key) });
    expect((await byKey.whoami()).authMethod).toBe('api_key');
    const byToken = new GatehouseClient({ baseUrl: stack.apiUrl, auth: bearerAuth(await machineToken(stack.config)) });
    expect((await byToken.whoami()).authMethod).toBe('jwt');
  });
});

describe('gateway cache settings refused at npm start, as at synth', () => {
  it.each<[Record<string, string>, RegExp]>([
    [{ GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '3' }, /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: expected at most 2/],
    [{ GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '2', GATEHOUSE_AUTH_MODE: 'audit' }, /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: expected 0 while GATEHOUSE_AUTH_MODE is audit/],
  ])('%j', async (env, message) => {
    const started = startTestStack({ env });
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(message);
  });
});
