/**
 * Conformance of the local gateway with API Gateway (REST, Lambda proxy, REQUEST authorizer) — each test names the
 * AWS behaviour it reproduces. One stack; its real authorizer and handlers are wrapped so a test header can make
 * them misbehave on purpose (x-conformance-authorizer / x-conformance-handler), everything else runs the real code.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS } from '../../lambdas/core/cors.js';
import { GATEWAY_RESPONSES } from '../../lambdas/core/gateway-responses.js';
import { bearer, expectProblem, jsonBody, requestFrom, startTestStack, type TestStack } from './support.js';

const ORIGIN = 'https://app.example.test';
const INTEGRATION_TIMEOUT_MS = 1000;

let stack: TestStack;
const authorizerEvents: APIGatewayRequestAuthorizerEvent[] = [];
const proxyEvents: APIGatewayProxyEvent[] = [];

function headerOf(headers: Record<string, string | undefined> | null, name: string): string | undefined {
  return Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
}

const allowAll = (arn: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn.replace(/\/[A-Z]+\/.*$/, '/*') }],
});

beforeAll(async () => {
  stack = await startTestStack({
    env: { GATEHOUSE_CORS_ORIGINS: ORIGIN },
    integrationTimeoutMs: INTEGRATION_TIMEOUT_MS,
    intercept: {
      authorizer: async (event, real) => {
        authorizerEvents.push(event);
        switch (headerOf(event.headers, 'x-conformance-authorizer')) {
          case 'throw-unauthorized':
            throw new Error('Unauthorized');
          case 'throw-lowercase':
            throw new Error('unauthorized');
          case 'throw-other':
            throw new Error('the store is down');
          case 'no-principal':
            return { policyDocument: allowAll(event.methodArn) };
          case 'no-policy':
            return { principalId: 'someone' };
          case 'object-context':
            return { principalId: 'someone', policyDocument: allowAll(event.methodArn), context: { nested: { a: 1 } } };
          case 'array-context':
            return { principalId: 'someone', policyDocument: allowAll(event.methodArn), context: { list: ['a'] } };
          case 'scalar-context':
            return {
              principalId: 'p-1',
              policyDocument: allowAll(event.methodArn),
              context: { principalId: 'p-1', authMethod: 'jwt', tenant: 't-1', scopes: 'items:read', admin: false, n: 42 },
            };
          case 'deny':
            return { principalId: 'p-1', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: event.methodArn }] } };
          default:
            return real();
        }
      },
      handler: async (_group, event, _context, real) => {
        proxyEvents.push(event);
        switch (headerOf(event.headers, 'x-conformance-handler')) {
          case 'throw':
            throw new Error('handler bug');
          case 'sleep':
            await new Promise((resolve) => setTimeout(resolve, INTEGRATION_TIMEOUT_MS + 500));
            return real();
          case 'malformed':
            return { statusCode: 'teapot', body: 42 };
          case 'mapped':
            return {
              statusCode: 207,
              headers: { 'X-One': 'a', 'X-Both': 'from-headers', 'WWW-Authenticate': 'Bearer error="invalid_token"', Server: 'lambda' },
              multiValueHeaders: { 'X-Many': ['1', '2'], 'X-Both': ['m1', 'm2'] },
              body: 'hello',
              isBase64Encoded: false,
            };
          case 'base64':
            return { statusCode: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from('binary!').toString('base64'), isBase64Encoded: true };
          default:
            return real();
        }
      },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  authorizerEvents.length = 0;
  proxyEvents.length = 0;
});

const admin = () => bearer(stack.config.adminKey);

describe('routing from the one route table', () => {
  it('an unknown path or method is MISSING_AUTHENTICATION_TOKEN, which the shared definitions make a 404 envelope — before any authorizer', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/v1/keys/abc/extra'],
      ['POST', '/health'],
      ['PATCH', '/v1/items'],
      ['GET', '/v1'],
      ['GET', '/'],
    ] as const) {
      const res = await stack.api(path, { method, headers: admin() });
      const problem = await expectProblem(res, 404, 'NOT_FOUND');
      expect(problem.requestId).toBe(res.headers.get('x-amzn-requestid'));
    }
    expect(authorizerEvents).toHaveLength(0);
    expect(proxyEvents).toHaveLength(0);
  });

  it('a {param} matches one segment and never a "/"', async () => {
    await expectProblem(await stack.api('/v1/items/a/b', { headers: admin() }), 404, 'NOT_FOUND');
    await expectProblem(await stack.api('/v1/keys//rotate', { method: 'POST', headers: admin() }), 404, 'NOT_FOUND');
    expect(authorizerEvents).toHaveLength(0);
  });

  it('REST proxy events keep the raw path and URL-decode path parameters; resource is the route template', async () => {
    await stack.api('/v1/items/caf%C3%A9', { headers: admin() });
    const [event] = proxyEvents;
    expect(event).toMatchObject({ resource: '/v1/items/{itemId}', path: '/v1/items/caf%C3%A9', pathParameters: { itemId: 'café' } });
  });
});

describe('CORS preflight answered by the gateway (CDK defaultCorsPreflightOptions)', () => {
  it('OPTIONS from a configured origin gets 204 with the allowed methods and CORS_ALLOW_HEADERS, no credential needed', async () => {
    const res = await stack.api('/v1/keys/abc', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'DELETE' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toEqual(['GET', 'DELETE', 'OPTIONS']);
    expect(res.headers.get('access-control-allow-headers')?.split(',')).toEqual(CORS_ALLOW_HEADERS);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_SECONDS));
    expect(authorizerEvents).toHaveLength(0);
    expect(proxyEvents).toHaveLength(0);
  });

  it('another origin gets no CORS headers at all', async () => {
    const res = await stack.api('/v1/items', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('OPTIONS on a path with no resource is a 404', async () => {
    await expectProblem(await stack.api('/nope', { method: 'OPTIONS', headers: { origin: ORIGIN } }), 404, 'NOT_FOUND');
  });

  it('actual responses to a configured origin carry its CORS headers (from the handler)', async () => {
    const res = await stack.api('/health', { headers: { origin: ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });
});

describe('REQUEST authorizer invocation', () => {
  it('with caching off (TTL 0) identity sources are optional: the authorizer is invoked even with no credential', async () => {
    await expectProblem(await stack.api('/v1/whoami'), 401, 'AUTHENTICATION_FAILED');
    expect(authorizerEvents).toHaveLength(1);
  });

  it('receives the real v1 REQUEST event with a methodArn built from the actual path', async () => {
    const itemId = randomUUID();
    const res = await stack.api(`/v1/items/${itemId}?a=1&a=2&b=x%20y`, {
      headers: { ...admin(), 'X-Custom': 'one', 'user-agent': 'conformance-test' },
    });
    const [event] = authorizerEvents;
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:us-east-1:000000000000:gatehouse/local/GET/v1/items/${itemId}`,
      resource: '/v1/items/{itemId}',
      path: `/v1/items/${itemId}`,
      httpMethod: 'GET',
      pathParameters: { itemId },
      queryStringParameters: { a: '2', b: 'x y' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['x y'] },
      requestContext: {
        accountId: '000000000000',
        apiId: 'gatehouse',
        stage: 'local',
        httpMethod: 'GET',
        resourcePath: '/v1/items/{itemId}',
        requestId: res.headers.get('x-amzn-requestid'),
        identity: { sourceIp: '127.0.0.1', userAgent: 'conformance-test' },
      },
    });
    expect(headerOf(event!.headers, 'x-custom')).toBe('one');
    expect(headerOf(event!.headers, 'x-forwarded-for')).toBe('127.0.0.1');
    expect(Object.keys(event!.multiValueHeaders ?? {})).toContain('X-Custom'); // the client's case is kept
  });

  it('multiValueHeaders carries every value of a repeated header, headers the last one; a repeated credential header is refused', async () => {
    const res = await requestFrom('127.0.0.1', `${stack.apiUrl}/v1/whoami`, {
      headers: { 'X-Repeat': ['first', 'second'], Authorization: [`Bearer ${stack.config.adminKey}`, `Bearer ${stack.config.adminKey}`] },
    });
    const [event] = authorizerEvents;
    expect(event!.multiValueHeaders?.['X-Repeat']).toEqual(['first', 'second']);
    expect(event!.headers?.['X-Repeat']).toBe('second');
    expect(event!.multiValueHeaders?.Authorization).toHaveLength(2);
    expect(res.status).toBe(401);
  });
});

describe('authorizer outcomes', () => {
  it('throwing exactly "Unauthorized" is a 401 (UNAUTHORIZED) with WWW-Authenticate', async () => {
    const res = await stack.api('/v1/whoami', { headers: { ...admin(), 'x-conformance-authorizer': 'throw-unauthorized' } });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
    await expectProblem(res, 401, 'AUTHENTICATION_FAILED');
    expect(proxyEvents).toHaveLength(0);
  });

  it('any other error (even "unauthorized" in another case) is AUTHORIZER_FAILURE', async () => {
    const failure = GATEWAY_RESPONSES.find((r) => r.type === 'AUTHORIZER_FAILURE')!;
    for (const mode of ['throw-other', 'throw-lowercase']) {
      const res = await stack.api('/v1/whoami', { headers: { ...admin(), 'x-conformance-authorizer': mode } });
      expect(res.headers.get('retry-after')).toBe(failure.headers['Retry-After']);
      const problem = await expectProblem(res, failure.status, failure.code);
      expect(problem.detail).toBe(failure.detail);
    }
    expect(proxyEvents).toHaveLength(0);
  });

  it('a Deny policy is a 403 (ACCESS_DENIED)', async () => {
    const res = await stack.api('/v1/whoami', { headers: { ...admin(), 'x-conformance-authorizer': 'deny' } });
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    await expectProblem(res, 403, 'PERMISSION_DENIED');
  });

  it('a malformed result (no principalId, no policyDocument, a non-scalar context value) is AUTHORIZER_CONFIGURATION_ERROR', async () => {
    const config = GATEWAY_RESPONSES.find((r) => r.type === 'AUTHORIZER_CONFIGURATION_ERROR')!;
    for (const mode of ['no-principal', 'no-policy', 'object-context', 'array-context']) {
      const res = await stack.api('/v1/whoami', { headers: { ...admin(), 'x-conformance-authorizer': mode } });
      await expectProblem(res, config.status, config.code);
    }
    expect(proxyEvents).toHaveLength(0);
  });

  it('context values reach the integration as strings, beside principalId', async () => {
    const res = await stack.api('/v1/whoami', { headers: { ...admin(), 'x-conformance-authorizer': 'scalar-context' } });
    expect(res.status).toBe(200);
    expect(proxyEvents[0]?.requestContext.authorizer).toMatchObject({
      principalId: 'p-1',
      tenant: 't-1',
      scopes: 'items:read',
      admin: 'false',
      n: '42',
    });
    expect(await res.json()).toMatchObject({ principalId: 'p-1', tenant: 't-1', scopes: ['items:read'] });
  });
});

describe('Lambda proxy integration', () => {
  it('the v1 proxy event carries requestContext.authorizer from the real authorizer and the route template as resource', async () => {
    const res = await stack.api('/v1/items', { ...jsonBody({ name: 'from the gateway' }), headers: { ...admin(), 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    const [event] = proxyEvents;
    expect(event).toMatchObject({
      resource: '/v1/items',
      path: '/v1/items',
      httpMethod: 'POST',
      body: JSON.stringify({ name: 'from the gateway' }),
      isBase64Encoded: false,
      queryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        resourcePath: '/v1/items',
        stage: 'local',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: { principalId: expect.stringMatching(/^key:/), authMethod: 'api_key', tenant: 'admin', admin: 'true' },
      },
    });
    expect(event!.requestContext.requestId).toBe(res.headers.get('x-amzn-requestid'));
  });

  it('public routes run without an authorizer and without requestContext.authorizer', async () => {
    expect((await stack.api('/health')).status).toBe(200);
    expect(authorizerEvents).toHaveLength(0);
    expect(proxyEvents[0]?.requestContext.authorizer).toBeUndefined();
  });

  it('a payload over 10 MB is REQUEST_TOO_LARGE (413) and never reaches the authorizer or the function', async () => {
    const body = 'x'.repeat(10 * 1024 * 1024 + 1);
    const res = await stack.api('/v1/items', { method: 'POST', headers: { ...admin(), 'content-type': 'application/json' }, body });
    await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(authorizerEvents).toHaveLength(0);
    expect(proxyEvents).toHaveLength(0);
  });

  it('a payload of exactly 10 MB passes the gateway (the function applies its own, smaller limit)', async () => {
    const body = 'x'.repeat(10 * 1024 * 1024);
    const res = await stack.api('/v1/items', { method: 'POST', headers: { ...admin(), 'content-type': 'application/json' }, body });
    expect(proxyEvents).toHaveLength(1);
    expect(res.headers.get('x-gatehouse-gateway-response')).toBeNull();
    await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE'); // the handler's maxBodyBytes (1 MB)
  });

  it('a function that runs past the integration timeout (29 s; 1 s here) is INTEGRATION_TIMEOUT (504)', async () => {
    const res = await stack.api('/health', { headers: { 'x-conformance-handler': 'sleep' } });
    await expectProblem(res, 504, 'SERVICE_UNAVAILABLE');
    expect(res.headers.get('x-gatehouse-gateway-response')).toBe('INTEGRATION_TIMEOUT');
  });

  it('a function that throws is a 502 (INTEGRATION_FAILURE)', async () => {
    const res = await stack.api('/health', { headers: { 'x-conformance-handler': 'throw' } });
    await expectProblem(res, 502, 'SERVICE_UNAVAILABLE');
  });

  it('a malformed proxy result is a 502 too ("Malformed Lambda proxy response")', async () => {
    await expectProblem(await stack.api('/health', { headers: { 'x-conformance-handler': 'malformed' } }), 502, 'SERVICE_UNAVAILABLE');
  });

  it('statusCode, headers and multiValueHeaders (merged, multiValueHeaders winning) and body are mapped; WWW-Authenticate and Server are remapped', async () => {
    const res = await stack.api('/health', { headers: { 'x-conformance-handler': 'mapped' } });
    expect(res.status).toBe(207);
    expect(res.headers.get('x-one')).toBe('a');
    expect(res.headers.get('x-many')).toBe('1, 2');
    expect(res.headers.get('x-both')).toBe('m1, m2');
    expect(res.headers.get('content-type')).toBe('application/json'); // REST's default for proxy results
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.headers.get('x-amzn-remapped-www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(res.headers.get('x-amzn-remapped-server')).toBe('lambda');
    expect(await res.text()).toBe('hello');
  });

  it('isBase64Encoded bodies stay base64 text when the API has no binary media types', async () => {
    const res = await stack.api('/health', { headers: { 'x-conformance-handler': 'base64', accept: 'application/octet-stream' } });
    expect(await res.text()).toBe(Buffer.from('binary!').toString('base64'));
  });
});
