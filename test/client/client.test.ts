/**
 * The typed client against a real local stack: every route of the route table, each credential kind (API key in
 * either header, bearer tokens, SigV4), and the typed errors with the §4 envelope.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

import { apiKeyAuth, bearerAuth } from '../../client/auth.js';
import { GatehouseClient } from '../../client/client.js';
import { GatehouseApiError, GatehouseCredentialsError, redactSecrets } from '../../client/errors.js';
import { OPERATIONS, type CreatedKey, type Item, type KeyView, type OperationResponse, type Whoami } from '../../client/operations.js';
import { expandPath, findRoute, ROUTES } from '../../client/routes.js';
import { sigv4Auth } from '../../client/sigv4.js';
import { ALL_SCOPES } from '../../lambdas/routes.js';
import { ok, scriptedServer, startTestStack, type TestStack } from './support.js';

let stack: TestStack;
let admin: GatehouseClient;
let iamClient: GatehouseClient;

beforeAll(async () => {
  stack = await startTestStack();
  const { region, accessKeyId, secretAccessKey } = stack.config.iam;
  admin = new GatehouseClient({ baseUrl: stack.apiUrl, auth: apiKeyAuth(stack.config.adminKey), iam: sigv4Auth({ region, credentials: { accessKeyId, secretAccessKey } }) });
  iamClient = new GatehouseClient({ baseUrl: stack.apiUrl, auth: sigv4Auth({ region, credentials: () => Promise.resolve({ accessKeyId, secretAccessKey }) }) });
});

afterAll(async () => {
  await stack?.stop();
});

describe('the route table', () => {
  it('the client has an operation for every route and no other', () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('finds routes the way the gateway does, and fills path templates one segment per parameter', () => {
    expect(findRoute('get', '/v1/keys/abc')?.path).toBe('/v1/keys/{keyId}');
    expect(findRoute('POST', '/v1/keys/abc/rotate')?.scope).toBe('keys:write');
    expect(findRoute('POST', '/v1/verify')?.auth).toBe('iam');
    expect(findRoute('GET', '/v1/keys/')).toBeUndefined();
    expect(findRoute('PATCH', '/v1/items/x')).toBeUndefined();
    expect(expandPath('/v1/keys/{keyId}/rotate', { keyId: 'a/b?c' })).toBe('/v1/keys/a%2Fb%3Fc/rotate');
    expect(() => expandPath('/v1/keys/{keyId}', {})).toThrow(/keyId/);
  });

  it('types come from the API schemas', () => {
    expectTypeOf<OperationResponse<'GET /v1/whoami'>>().toEqualTypeOf<Whoami>();
    expectTypeOf<Whoami['authMethod']>().toEqualTypeOf<'api_key' | 'jwt' | 'iam' | 'certificate' | 'anonymous'>();
    expectTypeOf<CreatedKey['scopes'][number]>().toEqualTypeOf<(typeof ALL_SCOPES)[number]>();
    expectTypeOf<KeyView['status']>().toEqualTypeOf<'active' | 'expired' | 'revoked'>();
  });
});

describe('every route', () => {
  it('public: /health and /openapi.json (no credential sent)', async () => {
    const anonymous = new GatehouseClient({ baseUrl: `${stack.apiUrl}/` });
    await expect(anonymous.health()).resolves.toEqual({ status: 'ok' });
    const doc = await anonymous.openapi();
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths as object)).toContain('/v1/verify');
  });

  it('whoami, with the key as Bearer or as X-API-Key', async () => {
    await expect(admin.whoami()).resolves.toMatchObject({ authMethod: 'api_key', tenant: 'admin', scopes: [...ALL_SCOPES] });
    const xApiKey = new GatehouseClient({ baseUrl: stack.apiUrl, auth: apiKeyAuth(stack.config.adminKey, { header: 'x-api-key' }) });
    await expect(xApiKey.whoami()).resolves.toMatchObject({ tenant: 'admin' });
  });

  it('keys: create, list (pages), get, rotate, revoke', async () => {
    const created = await admin.createKey({ name: 'client test', scopes: ['items:read', 'items:write'] });
    expect(created).toMatchObject({ name: 'client test', scopes: ['items:read', 'items:write'], expiresAt: null });
    expect(created.key).toMatch(new RegExp(`^gth_test_${created.id}_`));
    await admin.createKey({ name: 'second', scopes: ['keys:read'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() });

    const page = await admin.listKeys({ limit: 1 });
    expect(page.keys).toHaveLength(1);
    expect(page.nextToken).toBeTruthy();
    const all: KeyView[] = [];
    for await (const key of admin.allKeys({ limit: 1 })) all.push(key);
    expect(all.map((k) => k.name)).toEqual(expect.arrayContaining(['client test', 'second', 'bootstrap admin']));
    expect(JSON.stringify(all)).not.toContain(created.key);

    await expect(admin.getKey(created.id)).resolves.toMatchObject({ id: created.id, status: 'active', prefix: `gth_test_${created.id}` });
    const rotated = await admin.rotateKey(created.id, { gracePeriodSeconds: 30 });
    expect(rotated.rotatedFrom).toBe(created.id);
    await expect(admin.getKey(created.id)).resolves.toMatchObject({ rotatedTo: rotated.id, graceUntil: expect.any(String) });
    await expect(admin.revokeKey(rotated.id)).resolves.toBeUndefined();
    await expect(admin.getKey(rotated.id)).resolves.toMatchObject({ status: 'revoked' });
  });

  it('items: create, list, get, replace (If-Match), delete, through call() too', async () => {
    const created: Item = await admin.createItem({ name: 'one', data: { n: 1 } });
    expect(created).toMatchObject({ name: 'one', version: 1, data: { n: 1 } });
    await expect(admin.listItems({ limit: 10 })).resolves.toMatchObject({ items: expect.arrayContaining([expect.objectContaining({ id: created.id })]) });
    await expect(admin.getItem(created.id)).resolves.toMatchObject({ version: 1 });
    await expect(admin.replaceItem(created.id, { name: 'two', data: {} }, { ifMatch: 1 })).resolves.toMatchObject({ version: 2 });
    const stale = await admin.replaceItem(created.id, { name: 'three', data: {} }, { ifMatch: '"1"' }).catch((e: unknown) => e);
    expect(stale).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED' });
    await expect(admin.replaceItem(created.id, { name: 'last', data: { z: true } })).resolves.toMatchObject({ version: 3 });
    await expect(admin.call('GET /v1/items/{itemId}', { params: { itemId: created.id } })).resolves.toMatchObject({ name: 'last' });
    await expect(admin.deleteItem(created.id, { ifMatch: 3 })).resolves.toBeUndefined();
    await expect(admin.getItem(created.id)).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('usage and audit', async () => {
    const usage = await admin.usage();
    expect(Array.isArray(usage.usage)).toBe(true);
    const audit = await admin.audit({ limit: 5, type: ['key.created'] });
    expect(Array.isArray(audit.events)).toBe(true);
  });

  it('verify (IAM route) is signed with SigV4: explicit credentials or a provider', async () => {
    const { key, id } = await admin.createKey({ name: 'to verify', scopes: ['items:read'] });
    await expect(admin.verify(key)).resolves.toEqual({ valid: true, keyId: id, tenant: 'admin', scopes: ['items:read'], expiresAt: null });
    await expect(iamClient.verify(`${key.slice(0, -2)}xx`)).resolves.toEqual({ valid: false });
    await expect(iamClient.call('POST /v1/verify', { body: { key } })).resolves.toMatchObject({ valid: true });
  });

  it('verify without SigV4 credentials fails in the client, before sending', async () => {
    const keyOnly = new GatehouseClient({ baseUrl: stack.apiUrl, auth: apiKeyAuth(stack.config.adminKey) });
    await expect(keyOnly.verify('gth_test_x')).rejects.toBeInstanceOf(GatehouseCredentialsError);
  });

  it('a wrong SigV4 secret is refused by the gateway (403)', async () => {
    const wrong = new GatehouseClient({
      baseUrl: stack.apiUrl,
      iam: sigv4Auth({ region: stack.config.iam.region, credentials: { accessKeyId: stack.config.iam.accessKeyId, secretAccessKey: 'not-the-secret' } }),
    });
    await expect(wrong.verify('gth_test_x')).rejects.toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
  });
});

describe('errors', () => {
  it('401: the envelope, the same for a bad and an unknown key, and no key in the message', async () => {
    const key = `${stack.config.adminKey.slice(0, -6)}AAAAAA`;
    const client = new GatehouseClient({ baseUrl: stack.apiUrl, auth: apiKeyAuth(key) });
    const error = (await client.whoami().catch((e: unknown) => e)) as GatehouseApiError;
    expect(error).toBeInstanceOf(GatehouseApiError);
    expect(error).toMatchObject({ status: 401, code: 'AUTHENTICATION_FAILED', title: expect.any(String), requestId: expect.any(String), attempts: 1 });
    expect(error.type).toMatch(/^https:\/\//);
    expect(error.message).toContain('GET /v1/whoami failed: 401 AUTHENTICATION_FAILED');
    expect(`${error.message} ${error.detail} ${JSON.stringify(error)}`).not.toContain(key.slice(22));
    const none = new GatehouseClient({ baseUrl: stack.apiUrl });
    await expect(none.whoami()).rejects.toMatchObject({ status: 401, code: 'AUTHENTICATION_FAILED' });
  });

  it('403 for a missing scope: insufficient_scope and the scope the route needs', async () => {
    const { key } = await admin.createKey({ name: 'reader', scopes: ['items:read'] });
    const reader = new GatehouseClient({ baseUrl: stack.apiUrl, auth: apiKeyAuth(key) });
    const error = (await reader.createKey({ name: 'x', scopes: ['items:read'] }).catch((e: unknown) => e)) as GatehouseApiError;
    expect(error).toMatchObject({ status: 403, code: 'PERMISSION_DENIED', authError: 'insufficient_scope', requiredScope: 'keys:write' });
  });

  it('400: fieldErrors name the fields', async () => {
    const error = (await admin.request('POST', '/v1/keys', { body: { name: '', scopes: ['nope'] } }).catch((e: unknown) => e)) as GatehouseApiError;
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect(error.fieldErrors?.map((f) => f.field)).toEqual(expect.arrayContaining(['name']));
  });

  it('404 for an unknown route and for another tenant\'s key', async () => {
    await expect(admin.request('GET', '/v1/nothing')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(admin.getKey('AAAAAAAAAAAA')).rejects.toMatchObject({ status: 404 });
  });

  it('a non-envelope error answer still becomes a typed error', async () => {
    const proxy = await scriptedServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    });
    try {
      const client = new GatehouseClient({ baseUrl: proxy.url, retry: { maxRetries: 0 } });
      await expect(client.health()).rejects.toMatchObject({ status: 502, code: 'SERVICE_UNAVAILABLE', requestId: '', detail: 'HTTP 502' });
    } finally {
      await proxy.close();
    }
  });

  it('redactSecrets hides keys, JWTs and bearer values', () => {
    const key = stack.config.adminKey;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl';
    const text = redactSecrets(`key ${key} token ${jwt} header Bearer abcdefghijklmnop`);
    expect(text).not.toContain(key);
    expect(text).toContain(`${key.slice(0, 21)}_[redacted]`);
    expect(text).not.toContain(jwt);
    expect(text).toContain('Bearer [redacted]');
  });
});

describe('base URLs and requests', () => {
  it('keeps a stage path, sends JSON, serialises query values, never takes credentials from headers', async () => {
    const server = await scriptedServer((_req, res) => ok(res, { items: [] }));
    try {
      const client = new GatehouseClient({ baseUrl: `${server.url}/prod/`, auth: bearerAuth('the-token') });
      await client.listItems({ limit: 5 });
      await client.audit({ type: ['key.created', 'key.revoked'], limit: 2 });
      await client.request('POST', '/v1/items?x=1', { body: { name: 'n' }, headers: { authorization: 'Bearer smuggled', 'x-api-key': 'smuggled' } });
      expect(server.requests.map((r) => r.path)).toEqual(['/prod/v1/items?limit=5', '/prod/v1/audit?type=key.created%2Ckey.revoked&limit=2', '/prod/v1/items?x=1']);
      const post = server.requests[2]!;
      expect(post.headers.authorization).toBe('Bearer the-token');
      expect(post.headers['x-api-key']).toBeUndefined();
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.body).toBe('{"name":"n"}');
      expect(post.headers['user-agent']).toMatch(/^gatehouse-client\//);
    } finally {
      await server.close();
    }
  });

  it('refuses a base URL with a query, and a key with whitespace (without echoing it)', () => {
    expect(() => new GatehouseClient({ baseUrl: 'https://x.example/?a=1' })).toThrow(TypeError);
    expect(() => new GatehouseClient({ baseUrl: 'ftp://x.example' })).toThrow(TypeError);
    expect(() => apiKeyAuth('gth_test_secret part')).toThrow(/API key is empty or contains whitespace/);
  });
});
