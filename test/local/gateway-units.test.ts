/** The local gateway's building blocks with synthetic inputs and a fake clock (no server). */
import { describe, expect, it } from 'vitest';
import type { Route } from '../../lambdas/routes.js';
import { validateAuthorizerResult, integrationAuthorizerContext, isUnauthorized } from '../../local/gateway/authorizer-result.js';
import { AuthorizerResultCache } from '../../local/gateway/authorizer-cache.js';
import type { GatewayRequest } from '../../local/gateway/events.js';
import { filledPath, upstreamRequest } from '../../local/gateway/http-integration.js';
import { identitySourceHeader, identityValues } from '../../local/gateway/identity-sources.js';
import { proxyResultToReply } from '../../local/gateway/responses.js';
import { createRouter } from '../../local/gateway/router.js';
import { parseAuthorization } from '../../local/gateway/sigv4.js';
import { TokenBucket } from '../../local/gateway/throttle.js';
import { Waf } from '../../local/gateway/waf.js';

const route = (method: Route['method'], path: string): Route => ({ method, path, handler: 'items', auth: 'token', summary: '' });

describe('router (API Gateway resource selection)', () => {
  const router = createRouter([route('GET', '/a/{x}'), route('GET', '/a/me'), route('DELETE', '/a/{x}'), route('GET', '/a/{x}/b'), route('GET', '/c/{y}/d')]);

  it('a literal segment beats a {param}', () => {
    expect(router.match('GET', '/a/me')?.route.path).toBe('/a/me');
    expect(router.match('GET', '/a/you')?.route.path).toBe('/a/{x}');
  });

  it('resolves the resource first, then the method: DELETE /a/me has no route even though /a/{x} has DELETE', () => {
    expect(router.match('DELETE', '/a/me')).toBeUndefined();
    expect(router.match('DELETE', '/a/you')?.route.path).toBe('/a/{x}');
  });

  it('params are one non-empty segment, decoded; intermediate resources exist but have no methods', () => {
    expect(router.match('GET', '/a/x%20y/b')?.pathParameters).toEqual({ x: 'x y' });
    expect(router.match('GET', '/a//b')).toBeUndefined();
    expect(router.match('GET', '/c/1/2/d')).toBeUndefined();
    expect(router.resource('/c/1')?.resource.methods.size).toBe(0);
    expect(router.match('GET', '/c/1')).toBeUndefined();
  });
});

describe('HTTP proxy integration (a team service behind the gateway)', () => {
  const gatewayRequest = (rawHeaders: string[], rawQuery = ''): GatewayRequest => ({
    requestId: 'r',
    extendedRequestId: 'e',
    method: 'PUT',
    rawPath: '/unused',
    rawQuery,
    rawHeaders,
    body: Buffer.from('{"a":1}'),
    sourceIp: '198.51.100.7',
    localPort: 3000,
    receivedAtMs: 0,
  });

  it('fills path parameters percent-encoded again, and refuses dot segments however they were encoded', () => {
    const r = { path: '/stock/{sku}/moves/{moveId}' };
    expect(filledPath(r, { sku: 'a/b c', moveId: '7' })).toBe('/stock/a%2Fb%20c/moves/7');
    expect(filledPath(r, { sku: '...', moveId: '%' })).toBe('/stock/.../moves/%25');
    for (const dots of ['.', '..']) expect(filledPath(r, { sku: dots, moveId: '1' })).toBeUndefined();
    expect(filledPath({ path: '/' }, {})).toBe('/');
  });

  it("appends the filled path to the target URL's path, keeps the raw query, and sets Host, Content-Length and the principal headers", () => {
    const call = upstreamRequest(
      { url: 'https://svc.example.test:8443/base/' },
      gatewayRequest(['Host', 'localhost:3000', 'Content-Length', '7', 'Accept', 'a', 'accept', 'b', 'X-GATEHOUSE-Tenant', 'spoof', 'x-gatehouse-whatever', 'x', 'Connection', 'close, X-Hop', 'X-Hop', 'h', 'Upgrade', 'websocket', 'Authorization', 'Bearer gth_test_secret', 'X-API-Key', 'gth_test_secret'], 'q=a%20b&q=c'),
      { path: '/stock/{sku}', auth: 'token' },
      { sku: 'k 1' },
      { 'X-Gatehouse-Tenant': 't-1' },
    )!;
    expect(call.url.href).toBe('https://svc.example.test:8443/base/stock/k%201?q=a%20b&q=c');
    expect(call.method).toBe('PUT');
    expect(call.headers).toEqual({
      Accept: 'a',
      accept: 'b',
      'X-Forwarded-For': '198.51.100.7',
      'X-Forwarded-Port': '3000',
      'X-Forwarded-Proto': 'http',
      'X-Gatehouse-Tenant': 't-1',
      // The credential the gateway checked is blanked, as AWS's request parameter mappings do.
      Authorization: '',
      'X-API-Key': '',
      'X-Amz-Date': '',
      'X-Amz-Security-Token': '',
      'X-Amz-Content-Sha256': '',
      Host: 'svc.example.test:8443',
      'Content-Length': '7',
    });
  });

  it('on a public route the client\'s Authorization is the service\'s own business and passes; X-Gatehouse-* never does', () => {
    const call = upstreamRequest(
      { url: 'https://svc.example.test/' },
      gatewayRequest(['Authorization', 'Basic dXNlcjpwdw==', 'X-Gatehouse-Tenant', 'spoof'], ''),
      { path: '/open', auth: 'public' },
      {},
      {},
    )!;
    expect(call.headers.Authorization).toBe('Basic dXNlcjpwdw==');
    expect(Object.keys(call.headers).filter((h) => h.toLowerCase().startsWith('x-gatehouse-'))).toEqual([]);
  });
});

describe('WAF rate rules (sliding window, exact)', () => {
  it('blocks over the limit within the window and lets the key through once old requests leave it', () => {
    const waf = new Waf({ rateLimitPerIp: 1000, rateLimitPerCredential: 10, rateLimitWindowSeconds: 60 });
    const req = { sourceIp: '198.51.100.1', header: (n: string) => (n === 'authorization' ? 'Bearer k' : undefined) };
    for (let i = 0; i < 10; i++) expect(waf.check(req, i * 1000).blocked).toBe(false);
    expect(waf.check(req, 10_000)).toEqual({ blocked: true, rule: 'RateLimitPerAuthorization' });
    // Blocked requests count too: at 60.5 s only the one from 0 s has left the window; with the blocked one from
    // 10 s, ten remain, and this one is the eleventh.
    expect(waf.check(req, 60_500).blocked).toBe(true);
    expect(waf.check(req, 75_000).blocked).toBe(false);
  });
});

describe('stage token bucket', () => {
  it('starts full at burst, refills at rate per second, never above burst', () => {
    const bucket = new TokenBucket({ throttleRateLimit: 10, throttleBurstLimit: 3 });
    expect([0, 0, 0, 0].map((t) => bucket.take(t))).toEqual([true, true, true, false]);
    expect(bucket.take(100)).toBe(true); // 0.1 s × 10/s = 1 token
    expect(bucket.take(100)).toBe(false);
    expect([10_000, 10_000, 10_000, 10_000].map((t) => bucket.take(t))).toEqual([true, true, true, false]);
  });
});

describe('identity sources and the result cache', () => {
  it('only header sources; all present and non-empty', () => {
    expect(identitySourceHeader('method.request.header.X-API-Key')).toBe('x-api-key');
    expect(() => identitySourceHeader('method.request.querystring.key')).toThrow(/Unsupported/);
    const headers: Record<string, string> = { authorization: 'Bearer a', 'x-api-key': '' };
    expect(identityValues(['authorization'], (n) => headers[n])).toEqual(['Bearer a']);
    expect(identityValues(['authorization', 'x-api-key'], (n) => headers[n])).toBeUndefined();
  });

  it('entries expire after the TTL', () => {
    const cache = new AuthorizerResultCache(5);
    const result = { principalId: 'p', policyDocument: { Version: '2012-10-17', Statement: [] }, context: {} };
    cache.set('k', result, 0);
    expect(cache.get('k', 4999)).toBe(result);
    expect(cache.get('k', 5000)).toBeUndefined();
    const off = new AuthorizerResultCache(0);
    off.set('k', result, 0);
    expect(off.get('k', 0)).toBeUndefined();
  });
});

describe('authorizer results', () => {
  const policy = { Version: '2012-10-17', Statement: [] };
  it('Unauthorized is exactly that message', () => {
    expect(isUnauthorized(new Error('Unauthorized'))).toBe(true);
    expect(isUnauthorized('Unauthorized')).toBe(true);
    expect(isUnauthorized(new Error('Unauthorized.'))).toBe(false);
  });
  it('principalId and policyDocument required, context scalars only; values become strings', () => {
    expect(validateAuthorizerResult({ principalId: 'p', policyDocument: policy })).toBeDefined();
    expect(validateAuthorizerResult({ principalId: '', policyDocument: policy })).toBeUndefined();
    expect(validateAuthorizerResult({ principalId: 'p', policyDocument: policy, context: { a: null } })).toBeUndefined();
    const valid = validateAuthorizerResult({ principalId: 'p', policyDocument: policy, context: { n: 1, b: false, principalId: 'spoof' } })!;
    expect(integrationAuthorizerContext(valid, 7)).toEqual({ n: '1', b: 'false', principalId: 'p', integrationLatency: 7 });
  });
});

describe('proxy result mapping', () => {
  it('decodes base64 bodies only when Accept matches a binary media type of the API', () => {
    const result = { statusCode: 200, body: Buffer.from([0, 1, 2]).toString('base64'), isBase64Encoded: true };
    expect(proxyResultToReply(result, { accept: 'image/png', binaryMediaTypes: ['image/*'] })?.body).toEqual(Buffer.from([0, 1, 2]));
    expect(proxyResultToReply(result, { accept: 'application/json', binaryMediaTypes: ['image/*'] })?.body).toBe('AAEC');
  });
  it('refuses what API Gateway calls a malformed Lambda proxy response', () => {
    for (const bad of [null, 'x', {}, { statusCode: 99 }, { statusCode: 200, body: {} }, { statusCode: 200, headers: { a: {} } }, { statusCode: 200, multiValueHeaders: { a: 'x' } }]) {
      expect(proxyResultToReply(bad, { binaryMediaTypes: [] })).toBeUndefined();
    }
  });
});

describe('SigV4 Authorization header parsing', () => {
  it('reads credential scope, signed headers and signature; refuses anything else', () => {
    const sig = 'a'.repeat(64);
    expect(parseAuthorization(`AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`)).toEqual({
      accessKeyId: 'AKID',
      date: '20240101',
      region: 'us-east-1',
      service: 'execute-api',
      terminator: 'aws4_request',
      signedHeaders: ['host', 'x-amz-date'],
      signature: sig,
    });
    expect(parseAuthorization('Bearer x')).toBeUndefined();
    expect(parseAuthorization(`AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api, SignedHeaders=host, Signature=${sig}`)).toBeUndefined();
    expect(parseAuthorization(`AWS4-HMAC-SHA256 Credential=A/B/C/D/E, SignedHeaders=Host, Signature=${sig}`)).toBeUndefined();
  });
});
