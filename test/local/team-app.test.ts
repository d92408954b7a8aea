/**
 * A team's API behind Gatehouse on the local stack (issue 12, the library path): `startLocalStack({ app, baseDir })`
 * serves a `defineApp` declaration — its routes and scopes, a Lambda target (an entry file, imported and invoked
 * with the proxy event), an HTTP target (a real node:http service the request is proxied to, with the principal in
 * `X-Gatehouse-*` headers), and Gatehouse's own routes mounted under /gatehouse. Everything over real HTTP; the
 * local OIDC provider offers the team's scopes.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandlerGroup } from '../../lambdas/api/group.js';
import { defineApp, type GatehouseApp } from '../../lambdas/app.js';
import { defineApi, mergeApiDefinitions } from '../../lambdas/core/api-definition.js';
import { PRINCIPAL_HEADERS } from '../../lambdas/core/principal-headers.js';
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { bearer, expectProblem, jsonBody, machineToken, personTokens, requestFrom, startTestStack, type TestStack } from './support.js';
import { startEchoUpstream, type EchoUpstream, type ReceivedRequest } from './upstream.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const HANG_TIMEOUT_MS = 500;

let upstream: EchoUpstream;
let stack: TestStack;
let app: GatehouseApp;

function teamApp(upstreamUrl: string): GatehouseApp {
  return defineApp({
    title: 'Reports and inventory',
    scopes: {
      'reports:read': { description: 'Read reports', groups: ['admins', 'users'] },
      'reports:write': { description: 'Write reports', groups: ['admins'] },
      'inventory:read': { description: 'Read the inventory', groups: ['admins', 'users'] },
      'inventory:write': { description: 'Change the inventory', groups: ['admins'] },
    },
    routes: [
      { method: 'GET', path: '/reports/{reportId}', handler: 'reports', auth: 'token', scope: 'reports:read', summary: 'Get a report' },
      { method: 'POST', path: '/reports', handler: 'reports-create', auth: 'token', scope: 'reports:write', summary: 'Create a report' },
      { method: 'GET', path: '/reports/{reportId}/broken', handler: 'reports-broken', auth: 'token', scope: 'reports:read', summary: 'Always fails' },
      { method: 'GET', path: '/reports/{reportId}/slow', handler: 'reports-slow', auth: 'token', scope: 'reports:read', summary: 'Runs past its timeout' },
      { method: 'GET', path: '/inventory-status', handler: 'inventory', auth: 'public', summary: 'Public status' },
      { method: 'GET', path: '/inventory/{sku}', handler: 'inventory', auth: 'token', scope: 'inventory:read', summary: 'Get a stock level' },
      { method: 'POST', path: '/inventory/{sku}', handler: 'inventory', auth: 'token', scope: 'inventory:write', summary: 'Change a stock level' },
      { method: 'GET', path: '/inventory/{sku}/drop', handler: 'inventory', auth: 'token', scope: 'inventory:read', summary: 'Drops the connection' },
      { method: 'GET', path: '/inventory/{sku}/hang', handler: 'slow', auth: 'token', scope: 'inventory:read', summary: 'Never answers' },
      { method: 'GET', path: '/gone/{sku}', handler: 'gone', auth: 'token', scope: 'inventory:read', summary: 'Nothing listens' },
    ],
    targets: {
      reports: { kind: 'lambda', entry: './fixtures/echo-lambda.ts' },
      'reports-create': { kind: 'lambda', entry: './fixtures/echo-lambda.ts', handler: 'created' },
      'reports-broken': { kind: 'lambda', entry: './fixtures/echo-lambda.ts', handler: 'failing' },
      'reports-slow': { kind: 'lambda', entry: './fixtures/echo-lambda.ts', handler: 'hang', timeoutSeconds: 1 },
      inventory: { kind: 'http', url: `${upstreamUrl}/inventory-service/` },
      slow: { kind: 'http', url: `${upstreamUrl}/slow`, timeoutMs: HANG_TIMEOUT_MS },
      gone: { kind: 'http', url: 'http://127.0.0.1:9/nothing' },
    },
    gatehouse: { basePath: '/gatehouse' },
  });
}

beforeAll(async () => {
  upstream = await startEchoUpstream();
  app = teamApp(upstream.url);
  stack = await startTestStack({ app, baseDir: HERE });
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

const admin = () => bearer(stack.config.adminKey);

async function createKey(scopes: string[]): Promise<string> {
  const res = await stack.api('/gatehouse/v1/keys', { ...jsonBody({ name: `team ${scopes.join(' ')}`, scopes }), headers: { ...admin(), 'content-type': 'application/json' } });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return (JSON.parse(text) as { key: string }).key;
}

/** The upstream requests received while `run` ran. */
async function receivedDuring(run: () => Promise<void>): Promise<ReceivedRequest[]> {
  const before = upstream.received.length;
  await run();
  return upstream.received.slice(before);
}

describe('a team app on the local stack: authorization of its routes', () => {
  it('answers 401 without a credential, on Lambda and HTTP targets alike, and the target never sees the request', async () => {
    const seen = await receivedDuring(async () => {
      await expectProblem(await stack.api('/reports/r-1'), 401, 'AUTHENTICATION_FAILED');
      await expectProblem(await stack.api('/inventory/sku-1'), 401, 'AUTHENTICATION_FAILED');
    });
    expect(seen).toEqual([]);
  });

  it('answers 403 to a key lacking the route scope, 200 to one holding it', async () => {
    const readsReports = await createKey(['reports:read']);
    const seen = await receivedDuring(async () => {
      await expectProblem(await stack.api('/inventory/sku-1', { headers: bearer(readsReports) }), 403, 'PERMISSION_DENIED');
      await expectProblem(await stack.api('/reports', { ...jsonBody({}), headers: bearer(readsReports) }), 403, 'PERMISSION_DENIED');
    });
    expect(seen).toEqual([]);
    expect((await stack.api('/reports/r-1', { headers: bearer(readsReports) })).status).toBe(200);
    const readsInventory = await createKey(['inventory:read']);
    expect((await stack.api('/inventory/sku-1', { headers: bearer(readsInventory) })).status).toBe(201); // the service's own status
  });

  it('an unknown path is a 404, and so is Gatehouse under its old root once mounted', async () => {
    await expectProblem(await stack.api('/reports'), 404, 'NOT_FOUND');
    await expectProblem(await stack.api('/v1/whoami', { headers: admin() }), 404, 'NOT_FOUND');
    await expectProblem(await stack.api('/v1/items', { headers: admin() }), 404, 'NOT_FOUND');
  });
});

describe('a team app on the local stack: Lambda targets', () => {
  it('the entry module (relative to the app folder) gets the proxy event with the principal in requestContext.authorizer', async () => {
    const key = await createKey(['reports:read']);
    const me = (await (await stack.api('/gatehouse/v1/whoami', { headers: bearer(key) })).json()) as { tenant: string; keyId: string };
    const res = await stack.api('/reports/r%201?format=csv', { headers: bearer(key) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('echo-lambda');
    const event = (await res.json()) as Record<string, unknown>;
    expect(event).toMatchObject({
      resource: '/reports/{reportId}',
      path: '/reports/r%201',
      httpMethod: 'GET',
      pathParameters: { reportId: 'r 1' },
      queryStringParameters: { format: 'csv' },
    });
    expect(event.authorizer).toMatchObject({
      principalId: expect.any(String),
      authMethod: 'api_key',
      tenant: me.tenant,
      scopes: 'reports:read',
      keyId: me.keyId,
      admin: 'false',
    });
  });

  it('a target naming its handler export is invoked through that export', async () => {
    const res = await stack.api('/reports', { ...jsonBody({ title: 'q3' }), headers: { ...admin(), 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ created: JSON.stringify({ title: 'q3' }) });
  });

  it('a team function that fails is a 502 envelope, as API Gateway answers a Lambda error', async () => {
    const body = await expectProblem(await stack.api('/reports/r-1/broken', { headers: admin() }), 502, 'SERVICE_UNAVAILABLE');
    expect(JSON.stringify(body)).not.toContain('the team function failed');
  });

  it("a team function that runs past its own timeoutSeconds is stopped: a 502 (a function error), not the gateway's 504", async () => {
    await expectProblem(await stack.api('/reports/r-1/slow', { headers: admin() }), 502, 'SERVICE_UNAVAILABLE');
  });
});

describe('a team app on the local stack: HTTP targets', () => {
  it('proxies method, path (parameters filled, after the target URL), query and body, with the principal in X-Gatehouse-* headers', async () => {
    const key = await createKey(['inventory:read', 'inventory:write']);
    const me = (await (await stack.api('/gatehouse/v1/whoami', { headers: bearer(key) })).json()) as { principalId: string; tenant: string; keyId: string };
    let res: Response | undefined;
    const [got] = await receivedDuring(async () => {
      res = await stack.api('/inventory/sku%2F1?count=3&count=4&q=a%20b', {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json', 'x-team-header': 'kept' },
        body: JSON.stringify({ delta: -2 }),
      });
    });
    expect(res!.status).toBe(201);
    expect(res!.headers.get('x-upstream')).toBe('echo');
    expect(res!.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(got).toBeDefined();
    expect(got!.method).toBe('POST');
    expect(got!.url).toBe('/inventory-service/inventory/sku%2F1?count=3&count=4&q=a%20b');
    expect(got!.body).toBe(JSON.stringify({ delta: -2 }));
    const header = (name: string) => upstream.headerValues(got!, name);
    expect(header('x-team-header')).toEqual(['kept']);
    expect(header('content-type')).toEqual(['application/json']);
    expect(header('host')).toEqual([new URL(upstream.url).host]);
    expect(header('x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(header('X-Gatehouse-Tenant')).toEqual([me.tenant]);
    expect(header('X-Gatehouse-Principal-Id')).toEqual([me.principalId]);
    expect(header('X-Gatehouse-Key-Id')).toEqual([me.keyId]);
    expect(header('X-Gatehouse-Auth-Method')).toEqual(['api_key']);
    expect(header('X-Gatehouse-Scopes')).toEqual(['inventory:read inventory:write']);
    expect(header('X-Gatehouse-Admin')).toEqual(['false']);
  });

  it('never passes on a client-sent X-Gatehouse-* header: a spoofed tenant, admin flag or made-up name is dropped', async () => {
    const key = await createKey(['inventory:read']);
    const me = (await (await stack.api('/gatehouse/v1/whoami', { headers: bearer(key) })).json()) as { tenant: string };
    const [got] = await receivedDuring(async () => {
      const res = await stack.api('/inventory/sku-1', {
        headers: { ...bearer(key), 'X-Gatehouse-Tenant': 'admin', 'x-gatehouse-admin': 'true', 'X-GATEHOUSE-SCOPES': 'inventory:write', 'X-Gatehouse-Extra': 'spoof' },
      });
      expect(res.status).toBe(201);
    });
    const header = (name: string) => upstream.headerValues(got!, name);
    expect(header('x-gatehouse-tenant')).toEqual([me.tenant]);
    expect(header('x-gatehouse-admin')).toEqual(['false']);
    expect(header('x-gatehouse-scopes')).toEqual(['inventory:read']);
    expect(header('x-gatehouse-extra')).toEqual([]);
    const gatehouseHeaders = got!.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase().startsWith('x-gatehouse-')).map((h) => h.toLowerCase());
    expect(gatehouseHeaders.sort()).toEqual(Object.keys(PRINCIPAL_HEADERS).map((h) => h.toLowerCase()).sort());
  });

  it('a public route reaches the service with the principal headers blank (as AWS maps them), never the values the client sent', async () => {
    const [got] = await receivedDuring(async () => {
      const res = await stack.api('/inventory-status', { headers: { 'X-Gatehouse-Tenant': 'admin', 'X-Gatehouse-Admin': 'true' } });
      expect(res.status).toBe(201);
    });
    expect(got!.url).toBe('/inventory-service/inventory-status');
    const sent = got!.rawHeaders.flatMap((h, i) => (i % 2 === 0 && h.toLowerCase().startsWith('x-gatehouse-') ? [[h, got!.rawHeaders[i + 1]]] : []));
    expect(sent.map(([name]) => name).sort()).toEqual(Object.keys(PRINCIPAL_HEADERS).sort());
    expect(sent.every(([, value]) => value === '')).toBe(true);
  });

  it('hop-by-hop headers stay on their own connection, both ways', async () => {
    // node:http, not fetch: fetch refuses to send a Connection header naming other headers.
    const [got] = await receivedDuring(async () => {
      const res = await requestFrom('127.0.0.1', `${stack.apiUrl}/inventory/sku-1`, { headers: { ...admin(), connection: 'keep-alive, x-client-hop', 'x-client-hop': 'secret', te: 'trailers' } });
      expect(res.status).toBe(201);
      expect(res.headers['x-upstream']).toBe('echo');
      expect(res.headers['x-upstream-hop']).toBeUndefined();
    });
    expect(upstream.headerValues(got!, 'x-client-hop')).toEqual([]);
    expect(upstream.headerValues(got!, 'te')).toEqual([]);
  });

  it('a path parameter that is a dot segment is refused (400) before the service could resolve it to another path', async () => {
    // node:http sends the path as written; fetch would resolve the dot segments itself before sending.
    const seen = await receivedDuring(async () => {
      for (const path of ['/inventory/%2E%2E', '/inventory/%2e.', '/inventory/..', '/inventory/.']) {
        const res = await requestFrom('127.0.0.1', `${stack.apiUrl}${path}`, { headers: admin() });
        expect(res.status, `${path}: ${res.body}`).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({ code: 'VALIDATION_ERROR' });
      }
    });
    expect(seen).toEqual([]);
  });

  it('a service that cannot be reached is a 502 envelope; one that drops the connection too', async () => {
    await expectProblem(await stack.api('/gone/sku-1', { headers: admin() }), 502, 'SERVICE_UNAVAILABLE');
    await expectProblem(await stack.api('/inventory/sku-1/drop', { headers: admin() }), 502, 'SERVICE_UNAVAILABLE');
  });

  it("a service that does not answer within the target's timeoutMs is a 504 envelope", async () => {
    const body = await expectProblem(await stack.api('/inventory/sku-1/hang', { headers: admin() }), 504, 'SERVICE_UNAVAILABLE');
    expect(body.detail).toMatch(/in time/);
  });
});

describe("a team app on the local stack: Gatehouse's own routes under the mount", () => {
  it('POST /gatehouse/v1/keys with the admin key creates a key holding a team scope, and whoami under the mount shows it', async () => {
    const key = await createKey(['reports:read', 'keys:read']);
    const me = (await (await stack.api('/gatehouse/v1/whoami', { headers: bearer(key) })).json()) as { scopes: string[]; authMethod: string };
    expect(me).toMatchObject({ authMethod: 'api_key', scopes: ['reports:read', 'keys:read'].sort((a, b) => app.api.scopes.all.indexOf(a) - app.api.scopes.all.indexOf(b)) });
    expect((await stack.api('/gatehouse/health')).status).toBe(200);
    expect((await stack.api('/gatehouse/v1/keys', { headers: bearer(key) })).status).toBe(200);
  });

  it('a scope the app does not declare cannot be put on a key', async () => {
    const res = await stack.api('/gatehouse/v1/keys', { ...jsonBody({ name: 'x', scopes: ['items:read'] }), headers: { ...admin(), 'content-type': 'application/json' } });
    await expectProblem(res, 400, 'VALIDATION_ERROR');
  });

  it("/gatehouse/openapi.json documents the team's routes with their x-gatehouse-scope, and the mounted ones", async () => {
    const res = await stack.api('/gatehouse/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { info: { title: string }; paths: Record<string, Record<string, Record<string, unknown>>>; 'x-gatehouse-scopes': Record<string, string> };
    expect(doc.info.title).toBe('Reports and inventory');
    expect(doc.paths['/reports/{reportId}']?.get?.['x-gatehouse-scope']).toBe('reports:read');
    expect(doc.paths['/inventory/{sku}']?.post?.['x-gatehouse-scope']).toBe('inventory:write');
    expect(doc.paths['/gatehouse/v1/keys']?.post?.['x-gatehouse-scope']).toBe('keys:write');
    expect(doc.paths['/v1/keys']).toBeUndefined();
    expect(doc['x-gatehouse-scopes']).toMatchObject({ 'reports:read': 'Read reports', 'inventory:write': 'Change the inventory' });
  });
});

describe('a team app on the local stack: the local OIDC provider offers its scopes', () => {
  it('the machine client holds every declared scope (local.json lists them) and its token carries the team scopes', async () => {
    expect(stack.config.oidc.machineClient.scopes).toEqual(app.api.scopes.all.map((s) => `gatehouse/${s}`));
    const token = await machineToken(stack.config);
    const me = (await (await stack.api('/gatehouse/v1/whoami', { headers: bearer(token) })).json()) as { scopes: string[] };
    expect(me.scopes).toEqual(expect.arrayContaining(['reports:read', 'reports:write', 'inventory:read', 'inventory:write']));
    expect((await stack.api('/reports/r-1', { headers: bearer(token) })).status).toBe(200);
  });

  it('a machine token asking for one team scope holds just that one', async () => {
    const token = await machineToken(stack.config, 'gatehouse/inventory:read');
    expect((await stack.api('/inventory/sku-1', { headers: bearer(token) })).status).toBe(201);
    await expectProblem(await stack.api('/reports/r-1', { headers: bearer(token) }), 403, 'PERMISSION_DENIED');
  });

  it("people hold the team scopes their groups are declared with: alice (admins) may write reports, bob (users) may not", async () => {
    const scope = 'openid gatehouse/reports:read gatehouse/reports:write';
    const alice = (await personTokens(stack.config, 'alice', scope)).accessToken;
    const bob = (await personTokens(stack.config, 'bob', scope)).accessToken;
    const create = (token: string) => stack.api('/reports', { ...jsonBody({ title: 'q4' }), headers: { ...bearer(token), 'content-type': 'application/json' } });
    expect((await create(alice)).status).toBe(201);
    await expectProblem(await create(bob), 403, 'PERMISSION_DENIED');
    expect((await stack.api('/reports/r-1', { headers: bearer(bob) })).status).toBe(200);
  });
});

describe('a route group injected into the local stack (the template path: routes + one handler group)', () => {
  it('serves the injected group beside Gatehouse, with its scope requestable by the machine client and on keys', async () => {
    const definition = mergeApiDefinitions(GATEHOUSE_API.definition, {
      scopes: { 'weather:read': { description: 'Read the weather', groups: ['admins'] } },
      routes: [{ method: 'GET', path: '/v1/weather', handler: 'weather', auth: 'token', scope: 'weather:read', summary: 'The weather' }],
    });
    const withWeather: GatehouseApp = { definition: { ...definition, targets: {} }, api: defineApi(definition), targets: {}, title: 'Gatehouse' };
    const weather = defineHandlerGroup({
      name: 'weather',
      create: () => (event) => Promise.resolve({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sunny: true, tenant: event.requestContext.authorizer?.tenant }) }),
      docs: { 'GET /v1/weather': { responses: { 200: 'The weather' } } },
      access: {},
    });
    const own = await startTestStack({ app: withWeather, groups: [weather] });
    try {
      await expectProblem(await own.api('/v1/weather'), 401, 'AUTHENTICATION_FAILED');
      expect(await (await own.api('/v1/weather', { headers: bearer(own.config.adminKey) })).json()).toEqual({ sunny: true, tenant: 'admin' });
      const token = await machineToken(own.config, 'gatehouse/weather:read');
      expect((await own.api('/v1/weather', { headers: bearer(token) })).status).toBe(200);
      await expectProblem(await own.api('/v1/items', { headers: bearer(token) }), 403, 'PERMISSION_DENIED');
      const doc = (await (await own.api('/openapi.json')).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
      expect(doc.paths['/v1/weather']?.get?.['x-gatehouse-scope']).toBe('weather:read');
      expect((await own.api('/v1/items', { headers: bearer(own.config.adminKey) })).status).toBe(200);
    } finally {
      await own.stop();
    }
  });
});
