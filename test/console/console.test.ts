/**
 * Issue 14, the browser console — its route group without a browser: the routes, the bundle hook that builds the
 * page and its files, what each response carries (the Content-Security-Policy, caching), the configuration the page
 * reads, and the configuration errors that stop the function instead of serving a broken page.
 */
import { describe, expect, it } from 'vitest';
import { bundleValues, defineHandlerGroup, type HandlerGroup } from '../../lambdas/api/group.js';
import { CONSOLE_ASSETS_ENV, decodeConsoleAssets, type ConsoleAssets } from '../../lambdas/api/console/assets.js';
import type { ConsoleConfig } from '../../lambdas/api/console/config.js';
import { group as consoleGroup } from '../../lambdas/api/console/index.js';
import { createConsoleHandler } from '../../lambdas/api/console/operations.js';
import { CONSOLE_SIGN_IN_ENV, type ConsoleSignIn } from '../../lambdas/api/console/sign-in.js';
import { buildOpenApiDocument } from '../../lambdas/api/openapi/document.js';
import { createServices, type Services } from '../../lambdas/api/services.js';
import { defineApp, GATEHOUSE_APP } from '../../lambdas/app.js';
import { ConfigError } from '../../lambdas/core/errors.js';
import { NO_METRICS } from '../../lambdas/core/metrics.js';
import { StaticPepperSource } from '../../lambdas/core/pepper.js';
import { GATEHOUSE_API, ROUTES } from '../../lambdas/routes.js';
import { lambdaContext } from '../support/api-events.js';
import { TEST_PEPPER, testSettings } from '../support/services.js';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The console touches no table: services whose DynamoDB client is never called. */
function services(api = GATEHOUSE_API): Services {
  return createServices(testSettings({ tableName: 'console-test-unused' }), 'gatehouse-console-test', {
    api,
    pepperSource: new StaticPepperSource(TEST_PEPPER),
    metrics: NO_METRICS,
  });
}

const SIGN_IN: ConsoleSignIn = {
  kind: 'cognito',
  authorizationEndpoint: 'https://gh-123456789012.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
  tokenEndpoint: 'https://gh-123456789012.auth.eu-west-1.amazoncognito.com/oauth2/token',
  logoutEndpoint: 'https://gh-123456789012.auth.eu-west-1.amazoncognito.com/logout',
  clientId: '4example0client0id0abcdefg',
  scopes: ['openid', 'gatehouse/keys:read'],
};

const EXPECTED_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' https://gh-123456789012.auth.eu-west-1.amazoncognito.com; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

const built = consoleGroup.bundle!({ api: GATEHOUSE_API, groups: new Map(), title: 'Gatehouse' });
const assets: ConsoleAssets = decodeConsoleAssets(built[CONSOLE_ASSETS_ENV]!);

function get(path: string, asset?: string): APIGatewayProxyEvent {
  const resource = asset === undefined ? path : path.replace(/\/[^/]*$/, '/{asset}');
  return {
    resource,
    path,
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: asset === undefined ? null : { asset },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: `console-${path}`, identity: { sourceIp: '198.51.100.9' } },
  } as unknown as APIGatewayProxyEvent;
}

const consoleHandler = createConsoleHandler(services(), { ...built, [CONSOLE_SIGN_IN_ENV]: JSON.stringify(SIGN_IN) });

describe('the console route group', () => {
  it('is two public routes of the route table, with no scope, described in OpenAPI', () => {
    const routes = ROUTES.filter((r) => r.handler === 'console');
    expect(routes.map((r) => `${r.method} ${r.path} ${r.auth} ${r.scope ?? '-'}`)).toEqual(['GET /console public -', 'GET /console/{asset} public -']);
    const doc = buildOpenApiDocument(GATEHOUSE_API, { docs: { console: consoleGroup.docs } }) as { paths: Record<string, Record<string, { security: unknown[] }>> };
    expect(doc.paths['/console']!.get!.security).toEqual([]);
    expect(doc.paths['/console/{asset}']!.get!.security).toEqual([]);
  });

  it('its bundle hook builds the page, script, stylesheet and icon into one value, named for the define', () => {
    expect(Object.keys(built)).toEqual([CONSOLE_ASSETS_ENV]);
    const names = Object.keys(assets.files);
    expect(names).toEqual([expect.stringMatching(/^app-[0-9a-f]{12}\.js$/), expect.stringMatching(/^app-[0-9a-f]{12}\.css$/), expect.stringMatching(/^icon-[0-9a-f]{12}\.svg$/)]);
    for (const name of names) expect(assets.page).toContain(`"console/${name}"`);
  });

  it('the page has no inline script, no inline style and no event-handler attribute; the script has no HTML sink or eval', () => {
    const scripts = [...assets.page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\ssrc="console\/app-[0-9a-f]{12}\.js"/);
      expect(body).toBe('');
    }
    expect(assets.page).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
    const script = Object.entries(assets.files).find(([name]) => name.endsWith('.js'))![1].body;
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', '.style.', 'cssText']) expect(script.includes(sink), sink).toBe(false);
  });

  it('serves the page with the console CSP (scripts and styles from itself, connections to itself and the token endpoint, never framed) and no-store', async () => {
    const res = await consoleHandler(get('/console'), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': EXPECTED_CSP,
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    // The shared stack's own CSP for HTML (a sandbox that runs nothing) is replaced, never sent beside it.
    expect(Object.keys(res.headers!).filter((h) => h.toLowerCase() === 'content-security-policy')).toHaveLength(1);
    expect(String(res.headers!['Permissions-Policy'])).toContain('clipboard-write=(self)');
    expect(res.body).toBe(assets.page);
  });

  it("serves config.json from the route table and the deployment's sign-in: each route with the scope it needs (no-store)", async () => {
    const res = await consoleHandler(get('/console/config.json', 'config.json'), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Security-Policy': EXPECTED_CSP });
    const config = JSON.parse(res.body) as ConsoleConfig;
    expect(config.signIn).toEqual(SIGN_IN);
    expect(config.consolePath).toBe('/console');
    expect(config.routes).toEqual({
      whoami: { method: 'GET', path: '/v1/whoami' },
      listKeys: { method: 'GET', path: '/v1/keys', scope: 'keys:read' },
      createKey: { method: 'POST', path: '/v1/keys', scope: 'keys:write' },
      revokeKey: { method: 'DELETE', path: '/v1/keys/{keyId}', scope: 'keys:write' },
      rotateKey: { method: 'POST', path: '/v1/keys/{keyId}/rotate', scope: 'keys:write' },
      usage: { method: 'GET', path: '/v1/usage', scope: 'usage:read' },
      audit: { method: 'GET', path: '/v1/audit', scope: 'audit:read' },
    });
    expect(Object.keys(config.scopes)).toEqual([...GATEHOUSE_API.scopes.all]);
  });

  it('serves its files with their content types, cached for good (their names carry their hash)', async () => {
    const types: Record<string, string> = {};
    for (const name of Object.keys(assets.files)) {
      const res = await consoleHandler(get(`/console/${name}`, name), lambdaContext());
      expect(res.statusCode).toBe(200);
      expect(res.headers!['Cache-Control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers!['Content-Security-Policy']).toBe(EXPECTED_CSP);
      expect(res.body).toBe(assets.files[name]!.body);
      types[name.replace(/-[0-9a-f]+/, '')] = String(res.headers!['Content-Type']);
    }
    expect(types).toEqual({ 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8', 'icon.svg': 'image/svg+xml' });
  });

  it('answers a name it does not have (constructor, __proto__, a path, nothing) with the 404 envelope and the same headers', async () => {
    for (const name of ['constructor', '__proto__', 'toString', '..%2Fpackage.json', 'app.js', '']) {
      const res = await consoleHandler(get(`/console/${name}`, name), lambdaContext());
      expect(res.statusCode, name).toBe(404);
      expect(res.headers).toMatchObject({ 'Content-Type': 'application/problem+json', 'Content-Security-Policy': EXPECTED_CSP });
      expect(JSON.parse(res.body)).toMatchObject({ code: 'NOT_FOUND', detail: 'The console has no such file.' });
    }
  });

  it("mounted under a team's base path, the page finds Gatehouse's routes there", async () => {
    const team = defineApp({ scopes: {}, routes: [], targets: {}, gatehouse: { basePath: '/gatehouse' } });
    const handler = createConsoleHandler(services(team.api), built);
    const event = { ...get('/gatehouse/console/config.json', 'config.json'), resource: '/gatehouse/console/{asset}' };
    const config = JSON.parse((await handler(event, lambdaContext())).body) as ConsoleConfig;
    expect(config.consolePath).toBe('/gatehouse/console');
    expect(config.routes.listKeys).toEqual({ method: 'GET', path: '/gatehouse/v1/keys', scope: 'keys:read' });
    expect(config.routes.audit?.path).toBe('/gatehouse/v1/audit');
  });

  it('without sign-in settings the page is told so, and the CSP connects nowhere but the API', async () => {
    const handler = createConsoleHandler(services(), built);
    const res = await handler(get('/console/config.json', 'config.json'), lambdaContext());
    expect((JSON.parse(res.body) as ConsoleConfig).signIn).toBeNull();
    expect(res.headers!['Content-Security-Policy']).toContain("connect-src 'self';");
  });

  it('refuses to start without its files or with unusable sign-in settings: a configuration error, never a broken page', () => {
    expect(() => createConsoleHandler(services(), {})).toThrow(ConfigError);
    expect(() => createConsoleHandler(services(), {})).toThrow(/GATEHOUSE_CONSOLE_ASSETS/);
    expect(() => createConsoleHandler(services(), { [CONSOLE_ASSETS_ENV]: 'bm90IGFzc2V0cw' })).toThrow(/GATEHOUSE_CONSOLE_ASSETS/);
    const signIn = (value: unknown) => () => createConsoleHandler(services(), { ...built, [CONSOLE_SIGN_IN_ENV]: typeof value === 'string' ? value : JSON.stringify(value) });
    expect(signIn('{not json')).toThrow(/GATEHOUSE_CONSOLE_SIGN_IN/);
    // Tokens never travel in clear text: http only to a loopback host (the local stack).
    expect(signIn({ ...SIGN_IN, tokenEndpoint: 'http://idp.example.com/oauth2/token' })).toThrow(/tokenEndpoint/);
    expect(signIn({ ...SIGN_IN, authorizationEndpoint: 'https://idp.example.com/authorize?x=1' })).toThrow(/authorizationEndpoint/);
    expect(signIn({ ...SIGN_IN, extra: true })).toThrow(/GATEHOUSE_CONSOLE_SIGN_IN/);
    expect(signIn({ ...SIGN_IN, kind: 'oidc', tokenEndpoint: 'http://127.0.0.1:9999/oauth2/token' })).not.toThrow();
  });
});

describe('the console in Lambda', () => {
  it('reads its files from its bundle and its sign-in settings from its environment (process.env), through the one entry point', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { GATEHOUSE_TABLE_NAME: 'console-test-unused', GATEHOUSE_LOCAL_PEPPER: TEST_PEPPER, [CONSOLE_ASSETS_ENV]: built[CONSOLE_ASSETS_ENV], [CONSOLE_SIGN_IN_ENV]: JSON.stringify(SIGN_IN) });
    try {
      const { handler } = await import('../../lambdas/api/console/index.js');
      const page = await handler(get('/console'), lambdaContext());
      expect(page.statusCode).toBe(200);
      expect(page.headers!['Content-Security-Policy']).toBe(EXPECTED_CSP);
      const config = JSON.parse((await handler(get('/console/config.json', 'config.json'), lambdaContext())).body) as ConsoleConfig;
      expect(config.signIn?.clientId).toBe(SIGN_IN.clientId);
    } finally {
      process.env = saved;
    }
  });
});

describe('bundle hooks', () => {
  const hooked = (values: Record<string, unknown>): HandlerGroup =>
    defineHandlerGroup({ name: 'hooked', create: () => () => Promise.reject(new Error('unused')), docs: {}, access: {}, bundle: () => values as Record<string, string> });
  const context = { api: GATEHOUSE_APP.api, groups: new Map<string, HandlerGroup>(), title: 'x' };

  it('a value is named GATEHOUSE_… in upper case (what `process.env.<NAME>` in the code reads) and is a string', () => {
    expect(bundleValues(hooked({ GATEHOUSE_REPORT_TEMPLATES: 'abc' }), context)).toEqual({ GATEHOUSE_REPORT_TEMPLATES: 'abc' });
    expect(() => bundleValues(hooked({ REPORT_TEMPLATES: 'abc' }), context)).toThrow(/must be named GATEHOUSE_/);
    expect(() => bundleValues(hooked({ 'GATEHOUSE_A.B': 'abc' }), context)).toThrow(/must be named GATEHOUSE_/);
    expect(() => bundleValues(hooked({ GATEHOUSE_N: 1 }), context)).toThrow(/must be a string/);
  });

  it('a group without a hook has no bundle values', () => {
    const plain = defineHandlerGroup({ name: 'plain', create: () => () => Promise.reject(new Error('unused')), docs: {}, access: {} });
    expect(bundleValues(plain, context)).toEqual({});
  });
});
