/**
 * End to end over real HTTP through the local stack (`npm start`'s code): every route of CONTRACT §3 with every
 * credential kind — the bootstrap admin key, a key it created, a machine token (client credentials), people's
 * tokens obtained through the login form (authorization code + PKCE), and SigV4 on /v1/verify.
 */
import { ALL_SCOPES } from '../../lambdas/routes.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, jsonBody, machineToken, personTokens, signedFetch, startTestStack, type TestStack } from './support.js';


let stack: TestStack;
const credentials: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack();
  credentials.admin = stack.config.adminKey;
  const created = await stack.api('/v1/keys', { ...jsonBody({ name: 'e2e all scopes', scopes: ALL_SCOPES }), headers: { ...bearer(stack.config.adminKey), 'content-type': 'application/json' } });
  expect(created.status).toBe(201);
  credentials.createdKey = ((await created.json()) as { key: string }).key;
  credentials.machine = await machineToken(stack.config);
  credentials.alice = (await personTokens(stack.config, 'alice')).accessToken;
  credentials.bob = (await personTokens(stack.config, 'bob')).accessToken;
});

afterAll(async () => {
  await stack?.stop();
});

async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text === '' ? {} : JSON.parse(text)) as T;
}

describe('public routes', () => {
  it('GET /health answers 200 with no credential', async () => {
    expect(await json(await stack.api('/health'), 200)).toEqual({ status: 'ok' });
  });

  it('GET /openapi.json is the API described from the route table', async () => {
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(await stack.api('/openapi.json'), 200);
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/keys/{keyId}/rotate', '/v1/items/{itemId}', '/v1/verify']));
  });
});

/**
 * Every token route, in order, with one credential. Audit needs audit:read, which group `users` lacks.
 */
async function everyTokenRoute(headers: Record<string, string>, expect403ForAudit: boolean): Promise<{ tenant: string }> {
  const send = (path: string, init: RequestInit = {}) => stack.api(path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });

  const me = await json<{ principalId: string; authMethod: string; tenant: string; scopes: string[] }>(await send('/v1/whoami'), 200);

  // Keys: create → list → get → rotate (grace) → old and new both work → revoke → get shows it revoked.
  const created = await json<{ id: string; key: string; scopes: string[] }>(
    await send('/v1/keys', jsonBody({ name: `made by ${me.principalId}`, scopes: ['items:read'] })),
    201,
  );
  expect(created.key).toMatch(/^gth_test_/);
  const listed = await json<{ keys: { id: string }[] }>(await send('/v1/keys'), 200);
  expect(listed.keys.map((k) => k.id)).toContain(created.id);
  const got = await json<{ id: string; status: string }>(await send(`/v1/keys/${created.id}`), 200);
  expect(got).toMatchObject({ id: created.id, status: 'active' });
  expect(JSON.stringify(got)).not.toContain(created.key);
  const rotated = await json<{ id: string; key: string; rotatedFrom: string }>(
    await send(`/v1/keys/${created.id}/rotate`, jsonBody({ gracePeriodSeconds: 60 })),
    201,
  );
  expect(rotated.rotatedFrom).toBe(created.id);
  for (const key of [created.key, rotated.key]) expect((await stack.api('/v1/items', { headers: bearer(key) })).status).toBe(200);
  expect((await send(`/v1/keys/${rotated.id}`, { method: 'DELETE' })).status).toBe(204);
  expect(await json(await send(`/v1/keys/${rotated.id}`), 200)).toMatchObject({ status: 'revoked' });

  // Items: create → list → get → replace (If-Match) → delete → gone.
  const item = await json<{ id: string; version: number }>(await send('/v1/items', jsonBody({ name: 'first', data: { n: 1 } })), 201);
  expect((await json<{ items: { id: string }[] }>(await send('/v1/items'), 200)).items.map((i) => i.id)).toContain(item.id);
  const read = await send(`/v1/items/${item.id}`);
  expect(read.headers.get('etag')).toBe('"1"');
  expect(await json(read, 200)).toMatchObject({ id: item.id, name: 'first', data: { n: 1 } });
  const replaced = await send(`/v1/items/${item.id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'if-match': '"1"' },
    body: JSON.stringify({ name: 'second', data: { n: 2 } }),
  });
  expect(await json(replaced, 200)).toMatchObject({ name: 'second', version: 2 });
  await expectProblem(await send(`/v1/items/${item.id}`, { method: 'DELETE', headers: { 'if-match': '"1"' } }), 412, 'PRECONDITION_FAILED');
  expect((await send(`/v1/items/${item.id}`, { method: 'DELETE' })).status).toBe(204);
  await expectProblem(await send(`/v1/items/${item.id}`), 404, 'NOT_FOUND');

  // Usage (the created key was used above) and audit.
  await expect.poll(async () => (await json<{ usage: { keyId: string }[] }>(await send('/v1/usage'), 200)).usage.map((u) => u.keyId), { timeout: 5000 }).toContain(created.id);
  const audit = await send('/v1/audit');
  if (expect403ForAudit) {
    await expectProblem(audit, 403, 'PERMISSION_DENIED');
  } else {
    const events = (await json<{ events: { type: string; keyId?: string }[] }>(audit, 200)).events;
    expect(events.filter((e) => e.keyId === created.id).map((e) => e.type)).toEqual(expect.arrayContaining(['key.created', 'key.rotated']));
  }
  return { tenant: me.tenant };
}

describe('every token route with each credential kind', () => {
  it('the bootstrap admin key (Authorization: Bearer), tenant admin with every scope', async () => {
    const me = await json(await stack.api('/v1/whoami', { headers: bearer(credentials.admin!) }), 200);
    expect(me).toMatchObject({ authMethod: 'api_key', tenant: 'admin', scopes: ALL_SCOPES, admin: true });
    await everyTokenRoute(bearer(credentials.admin!), false);
  });

  it('the admin key in X-API-Key works the same', async () => {
    const me = await json(await stack.api('/v1/whoami', { headers: { 'x-api-key': credentials.admin! } }), 200);
    expect(me).toMatchObject({ authMethod: 'api_key', tenant: 'admin' });
  });

  it('a key the admin created (its creator tenant, its own scopes)', async () => {
    const me = await json<{ keyId: string; tenant: string }>(await stack.api('/v1/whoami', { headers: { 'x-api-key': credentials.createdKey! } }), 200);
    expect(me).toMatchObject({ authMethod: 'api_key', tenant: 'admin', keyId: expect.any(String), admin: false });
    await everyTokenRoute({ 'x-api-key': credentials.createdKey! }, false);
  });

  it('a machine token from the client-credentials grant (tenant = client id)', async () => {
    const me = await json(await stack.api('/v1/whoami', { headers: bearer(credentials.machine!) }), 200);
    expect(me).toMatchObject({ authMethod: 'jwt', tenant: stack.config.oidc.machineClient.clientId, scopes: ALL_SCOPES, admin: false });
    const { tenant } = await everyTokenRoute(bearer(credentials.machine!), false);
    expect(tenant).toBe(stack.config.oidc.machineClient.clientId);
  });

  it("alice's token from the login form (group admins: every scope, tenant = her sub)", async () => {
    const me = await json<{ tenant: string; principalId: string }>(await stack.api('/v1/whoami', { headers: bearer(credentials.alice!) }), 200);
    expect(me).toMatchObject({ authMethod: 'jwt', scopes: ALL_SCOPES, admin: true });
    expect(me.tenant).toBe(me.principalId);
    await everyTokenRoute(bearer(credentials.alice!), false);
  });

  it("bob's token from the login form (group users: everything but audit:read)", async () => {
    const me = await json(await stack.api('/v1/whoami', { headers: bearer(credentials.bob!) }), 200);
    expect(me).toMatchObject({ authMethod: 'jwt', scopes: ALL_SCOPES.filter((s) => s !== 'audit:read'), admin: false });
    await everyTokenRoute(bearer(credentials.bob!), true);
  });
});

describe('scopes and tenants through the gateway', () => {
  it('a narrow key is refused by the cached-policy check with 403 and insufficient_scope, before any handler', async () => {
    const res = await stack.api('/v1/keys', { ...jsonBody({ name: 'reader', scopes: ['items:read'] }), headers: { ...bearer(credentials.admin!), 'content-type': 'application/json' } });
    const { key } = await json<{ key: string }>(res, 201);
    expect((await stack.api('/v1/items', { headers: bearer(key) })).status).toBe(200);
    const denied = await stack.api('/v1/items', { ...jsonBody({ name: 'x' }), headers: { ...bearer(key), 'content-type': 'application/json' } });
    expect(denied.headers.get('www-authenticate')).toContain('insufficient_scope');
    await expectProblem(denied, 403, 'PERMISSION_DENIED');
    await expectProblem(await stack.api('/v1/keys', { headers: bearer(key) }), 403, 'PERMISSION_DENIED');
  });

  it("item 4: the gateway's 403 names the method and resource and where the scope is published; the scope is the route's x-gatehouse-scope", async () => {
    const res = await stack.api('/v1/keys', { ...jsonBody({ name: 'items only', scopes: ['items:read'] }), headers: { ...bearer(credentials.admin!), 'content-type': 'application/json' } });
    const { key } = await json<{ key: string }>(res, 201);
    for (const [method, path, resource] of [
      ['GET', '/v1/audit', '/v1/audit'],
      ['DELETE', '/v1/keys/AAAAAAAAAAAA', '/v1/keys/{keyId}'],
    ] as const) {
      const denied = await stack.api(path, { method, headers: bearer(key) });
      // The static gateway response cannot know the scope: no scope= in the challenge (RFC 6750 §3 makes it optional).
      expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="insufficient_scope"');
      const problem = await expectProblem(denied, 403, 'PERMISSION_DENIED');
      expect(problem.detail).toBe(`The credential does not grant the scope that ${method} ${resource} needs; the route's x-gatehouse-scope in /openapi.json names it.`);
      expect(problem.requestId).toBe(denied.headers.get('x-amzn-requestid'));
      // Where the message points, the scope is.
      const openapi = await json<{ paths: Record<string, Record<string, { 'x-gatehouse-scope'?: string }>> }>(await stack.api('/openapi.json'), 200);
      expect(openapi.paths[resource]?.[method.toLowerCase()]?.['x-gatehouse-scope']).toBe(method === 'GET' ? 'audit:read' : 'keys:write');
    }
  });

  it('item 5: POST /v1/verify without SigV4 (unsigned, or with an API key in X-API-Key) is a 404 that says the route may need SigV4 signing', async () => {
    const unsigned: Record<string, string>[] = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'x-api-key': credentials.admin! }];
    for (const headers of unsigned) {
      const res = await stack.api('/v1/verify', { ...jsonBody({ key: credentials.admin! }), headers });
      const problem = await expectProblem(res, 404, 'NOT_FOUND');
      expect(problem.detail).toBe('No such route, or this route needs AWS SigV4 (IAM) signing.');
    }
    // An unknown route says the same: the gateway cannot tell the two apart, in AWS as here.
    expect((await expectProblem(await stack.api('/v1/nothing'), 404, 'NOT_FOUND')).detail).toBe('No such route, or this route needs AWS SigV4 (IAM) signing.');
  });

  it("a machine token limited to items:read cannot write", async () => {
    const token = await machineToken(stack.config, 'gatehouse/items:read');
    expect((await stack.api('/v1/items', { headers: bearer(token) })).status).toBe(200);
    await expectProblem(await stack.api('/v1/items', { ...jsonBody({ name: 'x' }), headers: { ...bearer(token), 'content-type': 'application/json' } }), 403, 'PERMISSION_DENIED');
  });

  it("tenants never see each other's items (404, as if absent)", async () => {
    const post = await stack.api('/v1/items', { ...jsonBody({ name: "bob's" }), headers: { ...bearer(credentials.bob!), 'content-type': 'application/json' } });
    const { id } = await json<{ id: string }>(post, 201);
    expect((await stack.api(`/v1/items/${id}`, { headers: bearer(credentials.bob!) })).status).toBe(200);
    await expectProblem(await stack.api(`/v1/items/${id}`, { headers: bearer(credentials.alice!) }), 404, 'NOT_FOUND');
  });

  it('an ID token is refused (the local issuer accepts access tokens only), as are unknown and malformed credentials — one 401 body', async () => {
    const { idToken } = await personTokens(stack.config, 'alice', 'openid');
    const bodies = [];
    for (const headers of [bearer(idToken), bearer(`gth_test_${'A'.repeat(12)}_${'b'.repeat(49)}`), bearer('not-a-credential'), {}]) {
      const res = await stack.api('/v1/whoami', { headers });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
      const { requestId: _, ...body } = await expectProblem(res, 401, 'AUTHENTICATION_FAILED');
      bodies.push(body);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  it('a revoked key is refused within 5 s', async () => {
    const { id, key } = await json<{ id: string; key: string }>(
      await stack.api('/v1/keys', { ...jsonBody({ name: 'short-lived', scopes: ['items:read'] }), headers: { ...bearer(credentials.admin!), 'content-type': 'application/json' } }),
      201,
    );
    expect((await stack.api('/v1/whoami', { headers: bearer(key) })).status).toBe(200);
    expect((await stack.api(`/v1/keys/${id}`, { method: 'DELETE', headers: bearer(credentials.admin!) })).status).toBe(204);
    const revokedAt = Date.now();
    await expect.poll(async () => (await stack.api('/v1/whoami', { headers: bearer(key) })).status, { timeout: 5000, interval: 250 }).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(5000);
  });
});

describe('SigV4 (IAM) on POST /v1/verify', () => {
  it('a signed call verifies keys for another service', async () => {
    const { key, id } = await json<{ key: string; id: string }>(
      await stack.api('/v1/keys', { ...jsonBody({ name: 'to verify', scopes: ['items:read', 'items:write'] }), headers: { ...bearer(credentials.admin!), 'content-type': 'application/json' } }),
      201,
    );
    const valid = await json(await signedFetch(stack.config, `${stack.apiUrl}/v1/verify`, { body: JSON.stringify({ key }) }), 200);
    expect(valid).toEqual({ valid: true, keyId: id, tenant: 'admin', scopes: ['items:read', 'items:write'], expiresAt: null });
    const invalid = await json(await signedFetch(stack.config, `${stack.apiUrl}/v1/verify`, { body: JSON.stringify({ key: `gth_test_${randomUUID()}` }) }), 200);
    expect(invalid).toEqual({ valid: false });
  });

  it('a Gatehouse credential is not a signature: 403 on the IAM route', async () => {
    await expectProblem(await stack.api('/v1/verify', { ...jsonBody({ key: 'x' }), headers: { ...bearer(credentials.admin!), 'content-type': 'application/json' } }), 403, 'PERMISSION_DENIED');
  });
});
