/**
 * Security review, issue 11 (round 2): the local stack, the WAF rules and CORS on gateway-made responses.
 * - 11.5  the local OIDC provider's store is bounded and forgets expired entries;
 * - 11.9  names such as `constructor` or `__proto__` in headers, query strings and path parameters never make the
 *         local gateway answer 500;
 * - 11.10 one credential has one per-credential rate budget, however it is spelled and in whichever header;
 * - 11.14 only allow-listed origins are named in CORS headers, and every gateway-made answer is `no-store`,
 *         locally and in the synthesised templates alike.
 * Everything runs against real components: the provider as a child process, local stacks over real sockets, the
 * CDK app synthesised.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_RESPONSES, WAF_RATE_LIMITED } from '../../lambdas/core/gateway-responses.js';
import { applyTextTransformations, CREDENTIAL_KEY_TRANSFORMATIONS, credentialRateKey } from '../../lambdas/core/waf-rules.js';
import { ROUTES, type Route } from '../../lambdas/routes.js';
import { createLocalGateway, type LambdaFunction } from '../../local/gateway/gateway.js';
import { gatewayError, wafRateLimited } from '../../local/gateway/responses.js';
import { NodeSha256 } from '../../local/gateway/sigv4.js';
import { createMemoryAdapter, DEFAULT_MAX_ENTRIES_PER_MODEL } from '../../local/oidc/memory-adapter.js';
import { pkceAuthorization, TestBrowser } from '../support/browser.js';
import { spawnLocalOidc, type LocalOidcProcess } from '../support/oidc-process.js';
import { resourcesOf, synthGatehouse } from '../infra/synth.js';
import { requestFrom, startTestStack, type TestStack } from '../local/support.js';

process.env.CDK_VALIDATION = 'false';

// ---------------------------------------------------------------------------------------------------------------
// 11.5 — the local OIDC provider's store
// ---------------------------------------------------------------------------------------------------------------

describe('11.5: the local OIDC provider store is bounded', () => {
  it('finding 11.5: the memory adapter keeps at most its cap per model, dropping the least recently used first', async () => {
    const clock = { now: 1_000_000 };
    const adapter = createMemoryAdapter({ maxEntriesPerModel: 100, now: () => clock.now });
    const interactions = adapter('Interaction');
    await interactions.upsert('keep-me', { kind: 'Interaction' }, 3600);
    for (let i = 0; i < 1000; i++) {
      await interactions.upsert(`i${i}`, { kind: 'Interaction', n: i }, 3600);
      // A pending login that is used stays; the flood's own oldest entries go.
      if (i % 50 === 0) expect(await interactions.find('keep-me')).toBeDefined();
    }
    expect(await interactions.find('i0')).toBeUndefined();
    expect(await interactions.find('i999')).toMatchObject({ n: 999 });
    expect(await interactions.find('keep-me')).toBeDefined();
    expect(adapter.stats().entries.Interaction).toBe(100);
    // Another model has its own cap: the flood of interactions did not touch it.
    await adapter('Session').upsert('s1', { uid: 'u1', kind: 'Session' }, 3600);
    expect(await adapter('Session').findByUid('u1')).toMatchObject({ kind: 'Session' });
  });

  it('finding 11.5: the memory adapter bounds the payload bytes per model too', async () => {
    const adapter = createMemoryAdapter({ maxBytesPerModel: 64 * 1024, now: () => 0 });
    const requests = adapter('PushedAuthorizationRequest');
    for (let i = 0; i < 100; i++) await requests.upsert(`r${i}`, { kind: 'PushedAuthorizationRequest', padding: 'x'.repeat(16 * 1024) }, 60);
    const { bytes, entries } = adapter.stats();
    expect(bytes.PushedAuthorizationRequest).toBeLessThanOrEqual(64 * 1024);
    expect(entries.PushedAuthorizationRequest).toBe(3);
    expect(await requests.find('r99')).toBeDefined();
  });

  it('finding 11.5: expired entries vanish, with their grant and session-uid index entries (injected clock)', async () => {
    const clock = { now: 1_000_000 };
    const adapter = createMemoryAdapter({ now: () => clock.now });
    for (let i = 0; i < 50; i++) {
      await adapter('Session').upsert(`s${i}`, { kind: 'Session', uid: `u${i}` }, 60);
      await adapter('Grant').upsert(`g${i}`, { kind: 'Grant' }, 600);
      await adapter('AuthorizationCode').upsert(`c${i}`, { kind: 'AuthorizationCode', grantId: `g${i}` }, 60);
      await adapter('Interaction').upsert(`i${i}`, { kind: 'Interaction' }, 3600);
    }
    expect(adapter.stats()).toMatchObject({ entries: { Session: 50, Grant: 50, AuthorizationCode: 50, Interaction: 50 }, grantIndex: 50, uidIndex: 50 });

    clock.now += 61_000; // sessions and codes expired; grants and interactions live
    expect(await adapter('Session').findByUid('u1')).toBeUndefined();
    expect(adapter.stats()).toEqual({
      entries: { Grant: 50, Interaction: 50 },
      bytes: expect.any(Object) as object,
      grantIndex: 0,
      uidIndex: 0,
    });

    clock.now += 3600_000; // everything expired
    expect(adapter.stats()).toEqual({ entries: {}, bytes: {}, grantIndex: 0, uidIndex: 0 });
  });

  describe('the provider process under a flood of GET /oauth2/authorize', () => {
    let oidc: LocalOidcProcess;
    beforeAll(async () => {
      oidc = await spawnLocalOidc();
    }, 30_000);
    afterAll(() => oidc?.stop());

    const REDIRECT_URI = 'http://127.0.0.1:53682/callback';
    const authorize = () =>
      pkceAuthorization({ authorizationEndpoint: oidc.config.authorizationEndpoint, clientId: oidc.config.loginClient.clientId, redirectUri: REDIRECT_URI, scope: 'openid' }).url;

    it('finding 11.5: keeps only the newest interactions once more than its cap arrive', async () => {
      const first = new TestBrowser();
      const opened = await first.follow(authorize(), {}, REDIRECT_URI);
      expect(opened.page?.status).toBe(200); // the login form of interaction #1
      await opened.page?.arrayBuffer();

      // More interactions than one model may hold, from clients that never come back.
      let sent = 0;
      const flood = async () => {
        while (sent < DEFAULT_MAX_ENTRIES_PER_MODEL + 100) {
          sent += 1;
          const res = await fetch(authorize(), { redirect: 'manual' });
          expect(res.status).toBe(303);
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 8 }, flood));

      const last = new TestBrowser();
      const newest = await last.follow(authorize(), {}, REDIRECT_URI);
      expect(newest.page?.status).toBe(200);
      await newest.page?.arrayBuffer();
      // Interaction #1 was the least recently used: it is gone, so its form now says the interaction is unknown.
      const again = await first.request(opened.url);
      expect(again.status).toBe(400);
      expect(await again.text()).toMatch(/interaction/i);
    }, 120_000);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 11.9 — prototype names in request parts
// ---------------------------------------------------------------------------------------------------------------

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'] as const;

describe('11.9: prototype names in headers, query strings and path parameters', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  }, 60_000);
  afterAll(() => stack?.stop());

  const status = async (path: string, headers: Record<string, string> = {}) => {
    const res = await requestFrom('127.0.0.1', `${stack.apiUrl}${path}`, { headers });
    return res.status;
  };
  const admin = () => ({ 'x-api-key': stack.config.adminKey });

  it('finding 11.9: a header named like an Object.prototype member answers as without it (401 / 200), never 500', async () => {
    const seen: string[] = [];
    for (const name of PROTOTYPE_NAMES) {
      seen.push(`${name} header, no credential: ${await status('/v1/whoami', { [name]: 'x' })}`);
      seen.push(`${name} header, admin key: ${await status('/v1/whoami', { [name]: 'x', ...admin() })}`);
      seen.push(`${name} header, public route: ${await status('/health', { [name]: 'x' })}`);
    }
    expect(seen).toEqual(
      PROTOTYPE_NAMES.flatMap((name) => [`${name} header, no credential: 401`, `${name} header, admin key: 200`, `${name} header, public route: 200`]),
    );
  });

  it('finding 11.9: a query parameter named like an Object.prototype member answers as without it, never 500', async () => {
    const seen: string[] = [];
    for (const name of PROTOTYPE_NAMES) {
      for (const query of [`${name}=x`, `${name}=x&${name}=y`, name]) {
        seen.push(`?${query} no credential: ${await status(`/v1/whoami?${query}`)}`);
        seen.push(`?${query} admin key: ${await status(`/v1/whoami?${query}`, admin())}`);
      }
    }
    expect(seen).toEqual(
      PROTOTYPE_NAMES.flatMap((name) =>
        [`${name}=x`, `${name}=x&${name}=y`, name].flatMap((query) => [`?${query} no credential: 401`, `?${query} admin key: 200`]),
      ),
    );
  });

  it('finding 11.9: path parameters valued like Object.prototype members answer as an ordinary unknown id does', async () => {
    const seen: string[] = [];
    const expected: string[] = [];
    for (const path of ['/v1/keys/', '/v1/items/']) {
      const control = [await status(`${path}ordinaryvalue`), await status(`${path}ordinaryvalue`, admin())];
      expect(control[0]).toBe(401);
      expect(control[1]).toBeLessThan(500);
      for (const name of PROTOTYPE_NAMES) {
        seen.push(`${path}${name}: ${await status(`${path}${name}`)} / ${await status(`${path}${name}`, admin())}`);
        expected.push(`${path}${name}: ${control[0]} / ${control[1]}`);
      }
    }
    expect(seen).toEqual(expected);
  });

  it('finding 11.9: an IAM route with such a query parameter or signed header answers as without it (SigV4 re-signing), never 500', async () => {
    const body = JSON.stringify({ key: 'gth_test_notakey' });
    expect(await signedStatus(stack, '/v1/verify', 'ordinary=1', body, { ordinary: 'x' })).toBe(200);
    const seen: string[] = [];
    for (const name of PROTOTYPE_NAMES) {
      seen.push(`unsigned ?${name}: ${await status(`/v1/verify?${name}=1`)}`);
      seen.push(`signed ?${name}: ${await signedStatus(stack, '/v1/verify', `${name}=1`, body)}`);
      seen.push(`signed header ${name}: ${await signedStatus(stack, '/v1/verify', '', body, { [name]: 'x' })}`);
    }
    expect(seen).toEqual(PROTOTYPE_NAMES.flatMap((name) => [`unsigned ?${name}: 404`, `signed ?${name}: 200`, `signed header ${name}: 200`]));
  });

  it('finding 11.9: path parameters NAMED like Object.prototype members reach the integration as own values (custom route table)', async () => {
    const routes: Route[] = PROTOTYPE_NAMES.map((name) => ({ method: 'GET', path: `/things/${name}/{${name}}`, handler: 'health', auth: 'public', summary: '' }));
    const seen: unknown[] = [];
    const echo: LambdaFunction<APIGatewayProxyEvent> = (event) => {
      seen.push(event.pathParameters);
      return Promise.resolve({ statusCode: 200, body: JSON.stringify(Object.entries(event.pathParameters ?? {})) });
    };
    const { url, close } = await serveGateway({ routes, handler: echo });
    try {
      for (const name of PROTOTYPE_NAMES) {
        const res = await fetch(`${url}/things/${name}/v-${name}`);
        expect(res.status, name).toBe(200);
        expect(await res.json()).toEqual([[name, `v-${name}`]]);
      }
    } finally {
      await close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 11.10 — one credential, one rate budget
// ---------------------------------------------------------------------------------------------------------------

describe('11.10: one credential has one per-credential budget', () => {
  const LIMIT = 10;
  let stack: TestStack;
  let key = '';
  beforeAll(async () => {
    stack = await startTestStack({
      env: { GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: String(LIMIT), GATEHOUSE_RATE_LIMIT_PER_IP: '100000', GATEHOUSE_THROTTLE_BURST_LIMIT: '5000', GATEHOUSE_THROTTLE_RATE_LIMIT: '10000' },
    });
    const created = await stack.api('/v1/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.config.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'budget', scopes: ['items:read'] }),
    });
    key = ((await created.json()) as { key: string }).key;
  }, 60_000);
  afterAll(() => stack?.stop());

  const whoami = async (from: string, headers: Record<string, string>) => (await requestFrom(from, `${stack.apiUrl}/v1/whoami`, { headers })).status;

  it('finding 11.10: X-API-Key padded with non-breaking spaces (U+00A0) shares the key’s one budget', async () => {
    const statuses: number[] = [];
    for (let lead = 0; lead < 6; lead++) {
      for (let trail = 0; trail < 6; trail++) {
        statuses.push(await whoami('127.0.0.21', { 'x-api-key': `${'\u00a0'.repeat(lead)}${key}${'\u00a0'.repeat(trail)}` }));
      }
    }
    expect(statuses.every((s) => s === 200 || s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(LIMIT);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(36 - LIMIT);
  });

  it('finding 11.10: alternating Authorization: Bearer K and X-API-Key: K shares one budget', async () => {
    const other = await stack.api('/v1/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.config.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'alternating', scopes: ['items:read'] }),
    });
    const k = ((await other.json()) as { key: string }).key;
    const statuses: number[] = [];
    for (let i = 0; i < 3 * LIMIT; i++) {
      statuses.push(await whoami('127.0.0.22', i % 2 === 0 ? { authorization: `Bearer ${k}` } : { 'x-api-key': k }));
    }
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(LIMIT)).toEqual(Array.from({ length: 2 * LIMIT }, () => 429));
  });

  it('finding 11.10: the local normaliser is the web ACL’s text transformations, applied from the same list', () => {
    const { templates } = synthGatehouse();
    const acl = Object.values(resourcesOf(templates.waf, 'AWS::WAFv2::WebACL'))[0]!;
    const rules = (acl.Properties?.Rules ?? []) as { Name: string; Statement: { RateBasedStatement?: { CustomKeys?: { Header: { Name: string; TextTransformations: { Priority: number; Type: string }[] } }[] } } }[];
    const customKeys = rules.flatMap((r) => r.Statement.RateBasedStatement?.CustomKeys ?? []);
    expect(customKeys.map((k) => k.Header.Name).sort()).toEqual(['authorization', 'x-api-key']);
    // CloudFormation accepts exactly these two for what we need (no TRIM in AWS::WAFv2::WebACL TextTransformation).
    expect(CREDENTIAL_KEY_TRANSFORMATIONS.map((t) => t.type)).toEqual(['LOWERCASE', 'COMPRESS_WHITE_SPACE']);
    const samples = [
      'Bearer  gth_test_ABC',
      '\u00a0\u00a0gth_test_ABC\u00a0',
      'BEARER\t\u000b\u000cKEY',
      'Bearer \u00c0\u00c9 key', // AWS LOWERCASE folds A-Z only: À and É stay
      'a\r\nb',
    ];
    for (const { Header } of customKeys) {
      const deployed = Header.TextTransformations.map((t) => ({ priority: t.Priority, type: t.Type }));
      expect(deployed).toEqual(CREDENTIAL_KEY_TRANSFORMATIONS.map((t) => ({ priority: t.priority, type: t.type })));
      for (const sample of samples) expect(credentialRateKey(sample), JSON.stringify(sample)).toBe(applyTextTransformations(sample, deployed));
    }
    expect(applyTextTransformations('\u00a0\u00a0gth_test_ABC\u00a0', CREDENTIAL_KEY_TRANSFORMATIONS)).toBe(' gth_test_abc ');
    expect(applyTextTransformations('Bearer \u00c0 X', CREDENTIAL_KEY_TRANSFORMATIONS)).toBe('bearer \u00c0 x');
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------------------
// 11.14 — CORS and caching on gateway-made answers
// ---------------------------------------------------------------------------------------------------------------

const ORIGIN = 'https://app.example.test';
const OTHER_ORIGIN = 'https://admin.example.test';
const EVIL = 'https://evil.example.test';

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

describe('11.14: CORS and Cache-Control on every gateway-made answer', () => {
  describe('locally, with one allowed origin', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({ env: { GATEHOUSE_CORS_ORIGINS: ORIGIN, GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: '10' } });
    }, 60_000);
    afterAll(() => stack?.stop());

    const send = (path: string, headers: Record<string, string>) => requestFrom('127.0.0.31', `${stack.apiUrl}${path}`, { headers });

    it('finding 11.14: gateway responses name only the allowed origin (never the request’s) and are no-store', async () => {
      for (const origin of [ORIGIN, EVIL, 'null', 'constructor']) {
        for (const [path, expected] of [['/v1/whoami', 401], ['/nope', 404]] as const) {
          const res = await send(path, { origin });
          expect(res.status).toBe(expected);
          expect(header(res.headers, 'access-control-allow-origin'), `${path} from ${origin}`).toBe(ORIGIN);
          expect(header(res.headers, 'access-control-allow-credentials')).toBe('true');
          expect(header(res.headers, 'cache-control')).toBe('no-store');
        }
      }
    });

    it('finding 11.14: the WAF 429 names only the allowed origin and is no-store', async () => {
      let res = await send('/v1/whoami', { origin: EVIL, 'x-api-key': 'not-a-key-cors' });
      for (let i = 0; i < 10; i++) res = await send('/v1/whoami', { origin: EVIL, 'x-api-key': 'not-a-key-cors' });
      expect(res.status).toBe(429);
      expect(header(res.headers, 'access-control-allow-origin')).toBe(ORIGIN);
      expect(header(res.headers, 'cache-control')).toBe('no-store');
    });

    it('finding 11.14: handler responses echo an allowed origin only', async () => {
      for (const origin of [EVIL, 'null']) {
        const res = await send('/health', { origin });
        expect(res.status).toBe(200);
        expect(header(res.headers, 'access-control-allow-origin'), origin).toBeUndefined();
      }
      expect(header((await send('/health', { origin: ORIGIN })).headers, 'access-control-allow-origin')).toBe(ORIGIN);
    });

    it('finding 11.14: handler responses never echo an Origin named like an Object.prototype member', async () => {
      // middy's http-cors looks origins up in a plain object, where `constructor` is always "there".
      const seen: string[] = [];
      for (const origin of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const res = await send('/health', { origin });
        seen.push(`${origin}: ${res.status} ${String(header(res.headers, 'access-control-allow-origin'))}`);
      }
      expect(seen).toEqual(['constructor: 200 undefined', '__proto__: 200 undefined', 'toString: 200 undefined', 'hasOwnProperty: 200 undefined']);
    });
  });

  describe('locally, with two allowed origins (a static answer cannot choose between them)', () => {
    it('finding 11.14: gateway, WAF and throttling answers carry no Allow-Origin at all, and are no-store', async () => {
      const { url, close } = await serveGateway({ corsOrigins: [ORIGIN, OTHER_ORIGIN], rateLimitPerCredential: 10, throttleBurstLimit: 30 });
      try {
        const seen: string[] = [];
        const check = async (what: string, headers: Record<string, string>, path = '/v1/whoami') => {
          const res = await requestFrom('127.0.0.1', `${url}${path}`, { headers });
          seen.push(`${what}: ${res.status} ${String(header(res.headers, 'access-control-allow-origin'))} ${String(header(res.headers, 'cache-control'))}`);
        };
        for (const origin of [ORIGIN, EVIL]) await check(`401 from ${origin}`, { origin });
        for (let i = 0; i < 10; i++) await check('counted', { origin: EVIL, 'x-api-key': 'k-waf' });
        await check('WAF', { origin: EVIL, 'x-api-key': 'k-waf' });
        // The clock is frozen, so the bucket (burst 30) never refills: the next requests are throttled.
        for (let i = 0; i < 30; i++) await check('spent', { origin: EVIL }, '/nope');
        await check('throttled', { origin: EVIL }, '/nope');
        expect(seen.filter((s) => !s.startsWith('counted') && !s.startsWith('spent'))).toEqual([
          `401 from ${ORIGIN}: 401 undefined no-store`,
          `401 from ${EVIL}: 401 undefined no-store`,
          'WAF: 429 undefined no-store',
          'throttled: 429 undefined no-store',
        ]);
      } finally {
        await close();
      }
    });
  });

  describe('in the synthesised templates (one definition with the local gateway)', () => {
    const gatewayHeaders = (template: Template, type: string) => {
      const response = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).find((r) => r.Properties?.ResponseType === type)!;
      return response.Properties?.ResponseParameters as Record<string, string>;
    };
    const wafHeaders = (template: Template) => {
      const acl = Object.values(resourcesOf(template, 'AWS::WAFv2::WebACL'))[0]!;
      const rules = acl.Properties?.Rules as { Name: string; Action?: { Block?: { CustomResponse?: { ResponseHeaders: { Name: string; Value: string }[] } } } }[];
      // The rate rules answer 429 themselves; other blocks (e.g. body rules off free-form routes) reach clients as the
      // WAF_FILTERED gateway response, checked with the gateway responses.
      const blocks = rules.flatMap((r) => (r.Action?.Block?.CustomResponse ? [r.Action.Block.CustomResponse.ResponseHeaders] : []));
      expect(blocks.length).toBe(3);
      for (const b of blocks) expect(b).toEqual(blocks[0]);
      return Object.fromEntries(blocks[0]!.map((h) => [h.Name, h.Value]));
    };
    const gatewayTemplate = (template: Template, type: string) => {
      const response = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).find((r) => r.Properties?.ResponseType === type)!;
      return (response.Properties?.ResponseTemplates as Record<string, string>)['application/json']!;
    };
    const TEMPLATE_CONTEXT = { requestId: 'req-1', httpMethod: 'DELETE', resourcePath: '/v1/keys/{keyId}' };
    /** The decision context of a plan-limit refusal (the one response that reads the authorizer's context). */
    const AUTHORIZER_CONTEXT: Readonly<Record<string, string>> = { limit: 'quota', retryAfter: '7', quotaResetsAt: '2030-01-02T00:00:00.000Z' };
    /**
     * What API Gateway does to a gateway response template: the variant `#if($context.authorizer.x == "v")…#else…#end`
     * the context picks, then each `$context.<name>` (and `$context.authorizer.<name>`) becomes its value.
     */
    const asApiGateway = (template: string) => {
      const choice = /^#if\(\$context\.authorizer\.(\w+) == "(\w+)"\)(.*)#else(.*)#end$/s.exec(template);
      const chosen = choice ? (AUTHORIZER_CONTEXT[choice[1]!] === choice[2] ? choice[3]! : choice[4]!) : template;
      return chosen
        .replace(/\$context\.authorizer\.(\w+)/g, (_match, name: string) => AUTHORIZER_CONTEXT[name] ?? `<no authorizer.${name}>`)
        .replace(/\$context\.(\w+)/g, (_match, name: string) => (Object.hasOwn(TEMPLATE_CONTEXT, name) ? TEMPLATE_CONTEXT[name as keyof typeof TEMPLATE_CONTEXT] : `<no ${name}>`));
    };
    const localHeaders = (headers: Readonly<Record<string, string | readonly string[]>>) =>
      Object.fromEntries(Object.entries(headers).filter(([name]) => !/^x-(amzn|gatehouse)-/i.test(name)));

    for (const origins of [[], [ORIGIN], [ORIGIN, OTHER_ORIGIN]]) {
      it(`finding 11.14: with ${origins.length} origin(s), every gateway response and the WAF 429 carry exactly the local gateway’s headers and body`, () => {
        const { templates } = synthGatehouse({ corsOrigins: origins });
        // The plan-limit response maps Retry-After from the authorizer's context: API Gateway fills it in per request.
        const authorizerContext = { retryAfter: '7' };
        const fill = (v: string) => v.replace(/^context\.authorizer\.(\w+)$/, (_, name: string) => authorizerContext[name as keyof typeof authorizerContext]);
        for (const def of GATEWAY_RESPONSES) {
          const deployed = Object.fromEntries(
            Object.entries(gatewayHeaders(templates.api, def.type)).map(([k, v]) => [k.replace('gatewayresponse.header.', ''), fill(v.replace(/^'(.*)'$/, '$1'))]),
          );
          expect(deployed, def.type).toEqual(localHeaders(gatewayError(def.type, 'r', { corsOrigins: origins, authorizerContext }).headers));
          expect(deployed['Cache-Control']).toBe('no-store');
          expect(JSON.stringify(deployed)).not.toContain('method.request');
          if (origins.length === 1) expect(deployed['Access-Control-Allow-Origin']).toBe(ORIGIN);
          else expect(deployed['Access-Control-Allow-Origin']).toBeUndefined();
          // Item 4: the body too — the deployed template as API Gateway fills in its $context variables.
          const local = gatewayError(def.type, TEMPLATE_CONTEXT.requestId, { corsOrigins: origins, request: TEMPLATE_CONTEXT, authorizerContext: AUTHORIZER_CONTEXT });
          expect(String(local.body), def.type).toBe(asApiGateway(gatewayTemplate(templates.api, def.type)));
        }
        expect(JSON.parse(asApiGateway(gatewayTemplate(templates.api, 'ACCESS_DENIED')))).toMatchObject({ detail: expect.stringContaining('DELETE /v1/keys/{keyId} needs') });
        const waf = wafHeaders(templates.waf);
        const local = localHeaders(wafRateLimited('r', { corsOrigins: origins }).headers);
        delete local['Content-Type']; // WAF sets it from the body type (and refuses a custom one)
        expect(waf).toEqual(local);
        expect(waf).toMatchObject({ 'Cache-Control': 'no-store', 'Retry-After': String(WAF_RATE_LIMITED.retryAfterSeconds) });
      }, 120_000);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A local gateway of its own (stub functions, frozen clock), served over a real socket
// ---------------------------------------------------------------------------------------------------------------

/**
 * A SigV4-signed POST sent with node:http (fetch drops a header named `__proto__`), signed as the AWS SDKs sign.
 * `headers` may use any name: they are copied as own properties, never by assignment.
 */
async function signedStatus(stack: TestStack, path: string, query: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const url = new URL(`${stack.apiUrl}${path}${query === '' ? '' : `?${query}`}`);
  url.hostname = '127.0.0.1'; // requestFrom connects there, and its Host header says so
  const signer = new SignatureV4({
    service: 'execute-api',
    region: stack.config.iam.region,
    credentials: { accessKeyId: stack.config.iam.accessKeyId, secretAccessKey: stack.config.iam.secretAccessKey },
    sha256: NodeSha256,
  });
  const toSign = { host: url.host, 'content-type': 'application/json', ...headers };
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: toSign,
    body,
  });
  const sent = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host').map(([name, value]) => [name, String(value)]));
  return (await requestFrom('127.0.0.1', url.href, { method: 'POST', headers: sent, body })).status;
}

async function serveGateway(options: {
  routes?: Route[];
  handler?: LambdaFunction<APIGatewayProxyEvent>;
  corsOrigins?: string[];
  rateLimitPerCredential?: number;
  throttleBurstLimit?: number;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const ok: LambdaFunction<APIGatewayProxyEvent> = () => Promise.resolve({ statusCode: 200, body: '{}' });
  const handler = options.handler ?? ok;
  const handlers = Object.fromEntries([...new Set(ROUTES.map((r) => r.handler))].map((name) => [name, handler])) as Record<string, LambdaFunction<APIGatewayProxyEvent>>;
  const gateway = createLocalGateway({
    api: { region: 'us-east-1', accountId: '123456789012', apiId: 'local', stage: 'prod' },
    settings: {
      rateLimitPerIp: 100_000,
      rateLimitPerCredential: options.rateLimitPerCredential ?? 100_000,
      rateLimitWindowSeconds: 60,
      throttleRateLimit: 1,
      throttleBurstLimit: options.throttleBurstLimit ?? 5_000,
      corsOrigins: options.corsOrigins ?? [],
    },
    authorizer: () => Promise.reject(new Error('Unauthorized')),
    handlers,
    iam: { region: 'us-east-1', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', accountId: '123456789012', userId: 'AIDAEXAMPLE', userArn: 'arn:aws:iam::123456789012:user/local' },
    routes: options.routes ?? ROUTES,
    now: () => 1_700_000_000_000,
  });
  gateway.markReady();
  const server: Server = createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
