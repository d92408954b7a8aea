/**
 * Fuzzing with fast-check: the authorizer event (arbitrary headers mixing random strings, near-valid keys, mutated
 * valid keys and mutated valid JWTs) and every handler behind the one middleware stack (arbitrary bodies, media
 * types, query strings, path parameters and authorizer contexts).
 *
 * Properties:
 * - authorizer: never crashes (the only throws are `Unauthorized` and the dependency error), and never returns an
 *   Allow unless the headers carry a valid, active credential — and then only as that credential's principal;
 * - handlers: always answer (never throw), never 500/503 on input alone, every error is the RFC 9457 envelope
 *   (`application/problem+json`, type/title/status/detail/code/requestId, no stack), no response carries a hash;
 * - no unhandled promise rejection during the whole run.
 * Inputs are counted exactly and the totals printed (SECURITY.md quotes them). Sizes: GATEHOUSE_FUZZ_SCALE (default 1).
 */
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditHandler } from '../../lambdas/api/audit/operations.js';
import { createHealthHandler } from '../../lambdas/api/health/operations.js';
import { createItemsHandler } from '../../lambdas/api/items/operations.js';
import { createKeysHandler } from '../../lambdas/api/keys/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { createUsageHandler } from '../../lambdas/api/usage/operations.js';
import { createVerifyHandler } from '../../lambdas/api/verify/operations.js';
import { createWhoamiHandler } from '../../lambdas/api/whoami/operations.js';
import { createOpenApiHandler, encodeOpenApiDocument, OPENAPI_DOCUMENT_ENV } from '../../lambdas/api/openapi/operations.js';
import { group as consoleGroup } from '../../lambdas/api/console/index.js';
import { createConsoleHandler } from '../../lambdas/api/console/operations.js';
import { createAuthorizer } from '../../lambdas/authorizer/authorizer.js';
import { checksumOf, generateApiKey } from '../../lambdas/core/api-key.js';
import { DecisionCache } from '../../lambdas/core/decision-cache.js';
import { DependencyError, ERROR_CODES, PROBLEM_CONTENT_TYPE } from '../../lambdas/core/errors.js';
import { issueKey } from '../../lambdas/core/key-issuer.js';
import type { KeyRecord } from '../../lambdas/core/key-record.js';
import { ApiKeyVerifier } from '../../lambdas/core/key-verifier.js';
import { principalToContext } from '../../lambdas/core/principal.js';
import type { Scope } from '../../lambdas/core/scopes.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../../lambdas/routes.js';
import { TokenVerifier } from '../../lambdas/core/token-verifier.js';
import { ROUTES, type Route } from '../../lambdas/routes.js';
import { apiEvent, lambdaContext } from '../support/api-events.js';
import { captureLog } from '../support/capture-log.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { ARN_PREFIX } from '../support/events.js';
import { captureOutput, gatehouseOpenApiDocument, testServices } from '../support/services.js';
import { nowSeconds, parts, rsaKey, signWith } from './support/jose.js';
import { peppers, POOL_CLIENT, POOL_ID, POOL_ISSUER, POOL_JWKS_URI } from './support/lab.js';

const SCALE = Number(process.env.GATEHOUSE_FUZZ_SCALE ?? '1');
const AUTHORIZER_RUNS = Math.round(70_000 * SCALE);
const HANDLER_RUNS = Math.round(32_000 * SCALE);
const SEED = process.env.GATEHOUSE_FUZZ_SEED === undefined ? undefined : Number(process.env.GATEHOUSE_FUZZ_SEED);

const counts = { authorizerInputs: 0, allows: 0, refusals401: 0, dependencyFailures: 0, handlerInputs: 0, byStatus: {} as Record<number, number> };
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let dynamo: TestDynamo;
const started = Date.now();

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  dynamo = await startDynalite('gatehouse-fuzz');
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await dynamo?.stop();
  console.log(
    `\nFuzz totals: ${counts.authorizerInputs + counts.handlerInputs} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      `\n  authorizer events: ${counts.authorizerInputs} (allowed ${counts.allows}, 401 ${counts.refusals401}, dependency-failure ${counts.dependencyFailures})` +
      `\n  handler requests:  ${counts.handlerInputs} by status ${JSON.stringify(counts.byStatus)}` +
      `\n  unhandled rejections: ${unhandled.length}`,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// The authorizer
// ---------------------------------------------------------------------------------------------------------------

interface Valid {
  readonly credential: string;
  readonly principalId: string;
  readonly scopes: string;
  /** JWTs: only via Authorization. */
  readonly jwt: boolean;
}

describe('fuzz: the authorizer event', () => {
  const records = new Map<string, KeyRecord>();
  const memoryStore = {
    get: (id: string) => Promise.resolve(records.get(id)),
    create: (r: KeyRecord) => {
      records.set(r.id, r);
      return Promise.resolve();
    },
  };
  const poolKey = rsaKey('fuzz-pool-kid');
  const valid: Valid[] = [];
  let revokedKey = '';
  let decide: ReturnType<typeof createAuthorizer>;

  beforeAll(async () => {
    const issue = (tenant: string, scopes: Scope[]) => issueKey({ store: memoryStore, peppers: peppers(), environment: 'test' }, { tenant, name: 'fuzz', scopes, createdBy: 'fuzz' });
    for (const [tenant, scopes] of [
      ['tenant-a', ['items:read']],
      ['tenant-b', ['keys:read', 'keys:write']],
      ['admin', [...ALL_SCOPES]],
    ] as [string, Scope[]][]) {
      const { key, record } = await issue(tenant, scopes);
      valid.push({ credential: key, principalId: `key:${record.id}`, scopes: record.scopes.join(' '), jwt: false });
    }
    const revoked = await issue('tenant-a', ['items:read']);
    records.set(revoked.record.id, { ...revoked.record, revokedAt: new Date(Date.now() - 1000).toISOString() });
    revokedKey = revoked.key;
    const claims = (groups: string[], sub: string) => ({
      sub,
      iss: POOL_ISSUER,
      client_id: POOL_CLIENT,
      token_use: 'access',
      iat: nowSeconds(),
      exp: nowSeconds() + 3600,
      username: sub,
      'cognito:groups': groups,
    });
    valid.push({ credential: signWith(poolKey, claims(['users'], 'fuzz-user')), principalId: 'fuzz-user', scopes: 'keys:read keys:write items:read items:write usage:read', jwt: true });
    valid.push({ credential: signWith(poolKey, claims(['admins'], 'fuzz-admin')), principalId: 'fuzz-admin', scopes: ALL_SCOPES.join(' '), jwt: true });

    const jwksBytes = new TextEncoder().encode(JSON.stringify({ keys: [poolKey.jwk] }));
    const fetcher = { fetch: (uri: string) => (uri === POOL_JWKS_URI ? Promise.resolve(jwksBytes.buffer.slice(0)) : Promise.reject(new Error(`unexpected fetch ${uri}`))) };
    const jwksCache = new SimpleJwksCache({ fetcher });
    jwksCache.addJwks(POOL_JWKS_URI, { keys: [poolKey.jwk] });
    decide = createAuthorizer({ api: GATEHOUSE_API,
      mode: 'enforce',
      anonymousScopes: [],
      keys: new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store: memoryStore, peppers: peppers(), environment: 'test' }),
      tokens: new TokenVerifier({ scopes: GATEHOUSE_API.scopes, cognito: { userPoolId: POOL_ID, clientIds: [POOL_CLIENT], tokenUse: 'access' }, issuers: [], fetcher, jwksCache }),
      cache: new DecisionCache({ maxEntries: 5000, positiveTtlMs: 3000, negativeTtlMs: 1000 }),
      log: captureLog(),
    });
  });

  const base62 = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
  const nearValidKey = fc
    .tuple(fc.constantFrom('test', 'live'), fc.string({ unit: base62, minLength: 12, maxLength: 12 }), fc.string({ unit: base62, minLength: 43, maxLength: 43 }))
    .map(([env, id, secret]) => {
      const body = `gth_${env}_${id}_${secret}`;
      return body + checksumOf(body);
    });
  const anyChar = fc.oneof(base62, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('_', '.', '-', '=', ' ', '\t', '\u0000', '\r\n', 'а', 'Ο', '０', '\u200B', '\uFEFF'));
  const mutate = (source: fc.Arbitrary<string>) =>
    fc.tuple(source, fc.array(fc.tuple(fc.nat(), fc.constantFrom('replace', 'delete', 'insert', 'case', 'truncate', 'append'), anyChar), { minLength: 1, maxLength: 3 })).map(([s, edits]) => {
      let out = s;
      for (const [n, op, c] of edits) {
        const i = out.length === 0 ? 0 : n % out.length;
        if (op === 'replace') out = out.slice(0, i) + c + out.slice(i + 1);
        else if (op === 'delete') out = out.slice(0, i) + out.slice(i + 1);
        else if (op === 'insert') out = out.slice(0, i) + c + out.slice(i);
        else if (op === 'case') out = out.slice(0, i) + (out[i] === out[i]?.toUpperCase() ? (out[i] ?? '').toLowerCase() : (out[i] ?? '').toUpperCase()) + out.slice(i + 1);
        else if (op === 'truncate') out = out.slice(0, i);
        else out = out + c;
      }
      return out;
    });
  const validCredential = fc.constantFrom(...[0, 1, 2, 3, 4]).map((i) => valid[i]!.credential);
  const jwtPayloadEdit = fc
    .tuple(fc.constantFrom(3, 4), fc.constantFrom<Record<string, unknown>>({ 'cognito:groups': ['admins'] }, { sub: 'fuzz-admin' }, { scope: 'x/audit:read' }, { exp: 9999999999 }, { 'custom:tenant': 'admin' }))
    .map(([i, edit]) => {
      const token = valid[i]!.credential;
      const p = parts(token);
      return `${p.h}.${Buffer.from(JSON.stringify({ ...p.payload, ...edit })).toString('base64url')}.${p.s}`;
    });
  const credential = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 9000 }) },
    { weight: 4, arbitrary: nearValidKey },
    { weight: 5, arbitrary: mutate(validCredential) },
    { weight: 2, arbitrary: jwtPayloadEdit },
    { weight: 1, arbitrary: fc.constant('').map(() => revokedKey) },
    { weight: 2, arbitrary: validCredential },
  );
  const headerValue = fc.oneof(
    credential,
    fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER\t', 'Bearer  ', 'Bearer', 'Basic ', 'Token ', ' Bearer ', 'Bearer:', ''), credential, fc.constantFrom('', ' ', '\t', ',', ', Bearer x', '\r\n')).map(([a, b, c]) => a + b + c),
  );
  const headerName = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'X-API-Key', 'x-api-key', 'X-Api-Key', 'Cookie', 'X-Tenant', 'Proxy-Authorization', 'X_API_KEY') },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  );
  const headersArb = fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 });
  const eventArb = fc.record({
    pairs: headersArb,
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    // API Gateway builds methodArn from the request path, which always starts with '/'.
    path: fc.oneof(fc.constantFrom(...ROUTES.map((r) => r.path.replace(/\{[^}]+\}/g, 'x1'))), fc.string({ maxLength: 40 }).map((p) => `/${p}`)),
    query: fc.option(fc.dictionary(fc.constantFrom('api_key', 'access_token', 'key', 'token'), credential, { maxKeys: 2 })),
  });

  type EventInput = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;
  function eventOf(e: EventInput): APIGatewayRequestAuthorizerEvent {
    // Built as API Gateway's JSON would be: every name an own property (even "__proto__" or "toString").
    const multi = new Map<string, string[]>();
    for (const [name, value] of e.pairs) multi.set(name, [...(multi.get(name) ?? []), value]);
    const headers = Object.fromEntries([...multi].map(([k, v]) => [k, v[v.length - 1]!])) as Record<string, string>;
    const multiValueHeaders = Object.fromEntries(multi) as Record<string, string[]>;
    return {
      type: 'REQUEST',
      methodArn: `${ARN_PREFIX}${e.method}${e.path}`,
      resource: e.path,
      path: e.path,
      httpMethod: e.method,
      headers,
      multiValueHeaders,
      pathParameters: {},
      queryStringParameters: e.query ?? {},
      multiValueQueryStringParameters: Object.fromEntries(Object.entries(e.query ?? {}).map(([k, v]) => [k, [v]])),
      stageVariables: {},
      requestContext: { identity: { sourceIp: '198.51.100.1' }, requestId: 'fuzz' } as APIGatewayRequestAuthorizerEvent['requestContext'],
    };
  }

  /** Same credential: equal strings, or a JWT whose header and payload text are equal and whose signature decodes to the same bytes (finding F4). */
  const sameCredential = (presented: string, v: Valid): boolean => {
    if (presented === v.credential) return true;
    if (!v.jwt) return false;
    const [h, p, s] = presented.split('.');
    const [vh, vp, vs] = v.credential.split('.');
    return h === vh && p === vp && s !== undefined && /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').equals(Buffer.from(vs!, 'base64url'));
  };
  /** The valid credential a header value carries, the way a lenient reader would see it. */
  const carried = (name: string, value: string): Valid | undefined => {
    const lower = name.toLowerCase();
    if (lower === 'x-api-key') return valid.find((v) => !v.jwt && sameCredential(value.trim(), v));
    if (lower === 'authorization') {
      const m = /^[ \t]*bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
      return m ? valid.find((v) => sameCredential(m[1]!, v)) : undefined;
    }
    return undefined;
  };

  it(`${AUTHORIZER_RUNS} events: no crash, and never an Allow without a valid credential`, async () => {
    await fc.assert(
      fc.asyncProperty(eventArb, async (e) => {
        counts.authorizerInputs++;
        const event = eventOf(e);
        let result;
        try {
          result = await decide(event);
        } catch (error) {
          if (error instanceof Error && error.message === 'Unauthorized') {
            counts.refusals401++;
            return;
          }
          // An unknown kid makes aws-jwt-verify fetch the JWKS and then back off; that is a dependency answer, not a crash.
          if (error instanceof DependencyError) {
            counts.dependencyFailures++;
            return;
          }
          throw error;
        }
        counts.allows++;
        const carriers = e.pairs.map(([name, value]) => carried(name, value)).filter((v): v is Valid => v !== undefined);
        expect(carriers.length, `Allow for ${JSON.stringify(e.pairs).slice(0, 300)}`).toBeGreaterThan(0);
        const match = carriers.find((v) => v.principalId === result.principalId);
        expect(match, `Allow as ${result.principalId} for ${JSON.stringify(e.pairs).slice(0, 300)}`).toBeDefined();
        expect(result.context?.scopes).toBe(match!.scopes);
      }),
      { numRuns: AUTHORIZER_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    expect(counts.allows).toBeGreaterThan(0); // the generator does reach the allow path
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------------------
// The handlers
// ---------------------------------------------------------------------------------------------------------------

describe('fuzz: handler requests behind the one middleware stack', () => {
  let services: Services;
  type Handler = (event: APIGatewayProxyEvent, context: ReturnType<typeof lambdaContext>) => Promise<{ statusCode: number; headers?: Record<string, unknown>; body: string }>;
  let handlers: Record<string, Handler>;
  const knownIds: { keyId?: string; itemId?: string } = {};

  beforeAll(async () => {
    services = testServices(dynamo);
    handlers = {
      health: createHealthHandler(services),
      openapi: createOpenApiHandler(services, { [OPENAPI_DOCUMENT_ENV]: encodeOpenApiDocument(await gatehouseOpenApiDocument()) }),
      console: createConsoleHandler(services, consoleGroup.bundle!({ api: services.api, groups: new Map(), title: 'Gatehouse' })),
      whoami: createWhoamiHandler(services),
      keys: createKeysHandler(services),
      usage: createUsageHandler(services),
      audit: createAuditHandler(services),
      items: createItemsHandler(services),
      verify: createVerifyHandler(services),
    };
    const owner = { principalId: 'fuzz-owner', authMethod: 'jwt' as const, tenant: 'tenant-a', scopes: ALL_SCOPES, admin: false };
    const mk = (route: Route, body: unknown) => ({
      resource: route.path,
      path: route.path,
      httpMethod: route.method,
      headers: { 'Content-Type': 'application/json' },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { requestId: 'seed', authorizer: { ...principalToContext(owner) }, identity: { sourceIp: '198.51.100.1' } },
    }) as unknown as APIGatewayProxyEvent;
    const keyRes = await handlers.keys!(mk(ROUTES.find((r) => r.method === 'POST' && r.path === '/v1/keys')!, { name: 'seed', scopes: ['items:read'] }), lambdaContext());
    knownIds.keyId = (JSON.parse(keyRes.body) as { id: string }).id;
    const itemRes = await handlers.items!(mk(ROUTES.find((r) => r.method === 'POST' && r.path === '/v1/items')!, { name: 'seed', data: { a: 1 } }), lambdaContext());
    knownIds.itemId = (JSON.parse(itemRes.body) as { id: string }).id;
  });

  const scopes = fc.subarray([...ALL_SCOPES, 'bogus:scope']);
  const principalContext = fc.oneof(
    { weight: 6, arbitrary: fc.record({ principalId: fc.string({ maxLength: 20 }), authMethod: fc.constantFrom('api_key', 'jwt', 'anonymous', 'iam', 'root'), tenant: fc.constantFrom('tenant-a', 'tenant-b', 'admin', '_system', 'anonymous', 'a#KEYS', 'TENANT#x'), scopes: scopes.map((s) => s.join(' ')), admin: fc.constantFrom('true', 'false', 'TRUE', '1'), keyId: fc.option(fc.string({ maxLength: 14 }), { nil: undefined }) }) },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean())) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const jsonText = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom('', '{', '[]', 'null', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"name":"a","name":"b"}', '\uFEFF{}', '1e999'),
  );
  const structuredBody = fc.oneof(
    fc.record({ name: fc.string({ maxLength: 120 }), scopes: fc.array(fc.constantFrom(...ALL_SCOPES, 'admin', ''), { maxLength: 7 }), expiresAt: fc.option(fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 })), { nil: undefined }) }, { requiredKeys: [] }),
    fc.record({ name: fc.string({ unit: 'binary', maxLength: 210 }), data: fc.oneof(fc.object({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 })) }, { requiredKeys: [] }),
    fc.record({ key: fc.oneof(fc.string({ maxLength: 80 }), fc.constant('').map(() => generateApiKey('test').key)) }, { requiredKeys: [] }),
    fc.record({ gracePeriodSeconds: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })) }, { requiredKeys: [] }),
    fc.anything({ maxDepth: 3 }),
  ).map((v) => { try { return JSON.stringify(v) ?? 'null'; } catch { return '"unserialisable"'; } });
  const pathParam = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.uuid(),
    fc.constantFrom('KNOWN_KEY', 'KNOWN_ITEM', '../../etc', '%00', 'A'.repeat(12), 'TENANT#x'),
  );
  const requestArb = fc.record({
    route: fc.constantFrom(...ROUTES),
    principal: principalContext,
    body: fc.option(fc.oneof(jsonText, structuredBody), { nil: null }),
    base64: fc.boolean(),
    contentType: fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', '', 'APPLICATION/JSON', 'application/json, text/plain'), { nil: undefined }),
    query: fc.option(fc.dictionary(fc.oneof(fc.constantFrom('limit', 'nextToken', 'tenant', 'from', 'to', 'type', 'keyId'), fc.string({ maxLength: 8 })), fc.string({ maxLength: 40 }), { maxKeys: 3 }), { nil: null }),
    param: pathParam,
    ifMatch: fc.option(fc.oneof(fc.constantFrom('*', '"1"', 'W/"1"', '"1", "2"', ''), fc.string({ maxLength: 30 })), { nil: undefined }),
    iam: fc.boolean(),
  });

  type RequestInput = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;
  function proxyEvent(r: RequestInput, n: number): APIGatewayProxyEvent {
    const param = r.param === 'KNOWN_KEY' ? knownIds.keyId! : r.param === 'KNOWN_ITEM' ? knownIds.itemId! : r.param;
    const pathParameters = r.route.path.includes('{keyId}') ? { keyId: param } : r.route.path.includes('{itemId}') ? { itemId: param } : r.route.path.includes('{asset}') ? { asset: param } : null;
    const headers: Record<string, string> = {};
    if (r.contentType !== undefined) headers['Content-Type'] = r.contentType;
    if (r.ifMatch !== undefined) headers['If-Match'] = r.ifMatch;
    const body = r.body === null ? null : r.base64 ? Buffer.from(r.body).toString('base64') : r.body;
    return {
      resource: r.route.path,
      path: r.route.path,
      httpMethod: r.route.method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: r.query,
      multiValueQueryStringParameters: r.query ? Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, [v]])) : null,
      pathParameters,
      stageVariables: null,
      body,
      isBase64Encoded: r.base64 && body !== null,
      requestContext: {
        requestId: `fuzz-${n}`,
        authorizer: r.principal,
        identity: { sourceIp: '198.51.100.1', ...(r.iam ? { userArn: 'arn:aws:iam::123456789012:user/fuzz', caller: 'AIDAFUZZ', accountId: '123456789012' } : {}) },
      },
    } as unknown as APIGatewayProxyEvent;
  }

  const CODES = new Set(Object.keys(ERROR_CODES));
  const ENVELOPE_KEYS = new Set(['type', 'title', 'status', 'detail', 'code', 'requestId', 'errors']);

  it(`${HANDLER_RUNS} requests: always an answer, errors in the envelope, no 500/503 from input alone`, async () => {
    const out = captureOutput(); // Powertools writes to stdout/stderr; keep the run readable
    try {
      await fc.assert(
        fc.asyncProperty(requestArb, async (r) => {
          const n = ++counts.handlerInputs;
          const event = proxyEvent(r, n);
          const res = await handlers[r.route.handler]!(event, lambdaContext());
          counts.byStatus[res.statusCode] = (counts.byStatus[res.statusCode] ?? 0) + 1;
          expect(Number.isInteger(res.statusCode)).toBe(true);
          expect(res.body).not.toMatch(/"hash"\s*:|\n\s+at |node_modules|\.ts:\d+/);
          // An empty tenant is left out of the generator: it is finding F5, tested on its own below.
          expect([500, 503], `${res.statusCode} ${res.body.slice(0, 300)} for ${JSON.stringify(r).slice(0, 400)}`).not.toContain(res.statusCode);
          if (res.statusCode >= 400) {
            expect(res.headers?.['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
            const problem = JSON.parse(res.body) as Record<string, unknown>;
            for (const key of ['type', 'title', 'status', 'detail', 'code', 'requestId']) expect(problem, `${key} in ${res.body}`).toHaveProperty(key);
            expect(Object.keys(problem).filter((k) => !ENVELOPE_KEYS.has(k))).toEqual([]);
            expect(problem.status).toBe(res.statusCode);
            expect(CODES.has(problem.code as string)).toBe(true);
            expect(problem.requestId).toBe(`fuzz-${n}`);
          } else if (res.body !== '' && String(res.headers?.['Content-Type']).startsWith('application/json')) {
            JSON.parse(res.body);
          } else if (res.body !== '') {
            // The console's page and files: what the route table says, with the console's own headers.
            expect(r.route.handler).toBe('console');
            expect(res.headers?.['Content-Security-Policy']).toContain("frame-ancestors 'none'");
          }
        }),
        { numRuns: HANDLER_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    } finally {
      out.restore();
    }
  }, 180_000);

  it('no unhandled promise rejection during the whole run', () => {
    expect(unhandled).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Found by fuzzing (kept failing until fixed: see SECURITY.md, finding F5)
// ---------------------------------------------------------------------------------------------------------------

describe('found by fuzzing — FINDING F5: an empty tenant', () => {
  it('F5: a machine token whose client_id is "" does not yield an empty tenant', async () => {
    const { principalFromClaims, DEFAULT_CLAIMS } = await import('../../lambdas/core/token-verifier.js');
    const principal = principalFromClaims({ sub: 'machine-sub', client_id: '', token_use: 'access', scope: 'gatehouse/items:read' }, { ...DEFAULT_CLAIMS, catalog: GATEHOUSE_API.scopes });
    expect(principal?.tenant).not.toBe('');
  });

  it('F5: a request whose authorizer context names an empty tenant is refused with 401, not a 500 or a shared "" tenant', async () => {
    const services = testServices(dynamo);
    const context = { principalId: 'p', authMethod: 'jwt', tenant: '', scopes: ALL_SCOPES.join(' '), admin: 'false' };
    const event = (method: string, path: string, body?: unknown) =>
      apiEvent({ method, path, rawAuthorizer: context, ...(body === undefined ? {} : { body }) });
    const out = captureOutput();
    try {
      const list = await createItemsHandler(services)(event('GET', '/v1/items'), lambdaContext());
      const create = await createKeysHandler(services)(event('POST', '/v1/keys', { name: 'k', scopes: ['items:read'] }), lambdaContext());
      expect([list.statusCode, create.statusCode]).toEqual([401, 401]);
    } finally {
      out.restore();
    }
  });
});
