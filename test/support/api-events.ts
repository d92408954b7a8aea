/**
 * REST (v1) proxy-integration events as API Gateway delivers them after the authorizer, and a Lambda context.
 * Path parameters are filled from the concrete path against the route's template, as API Gateway does.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { principalToContext, type Principal } from '../../lambdas/core/principal.js';
import type { Scope } from '../../lambdas/core/scopes.js';
import { ALL_SCOPES } from '../../lambdas/routes.js';
import { ROUTES, type Route } from '../../lambdas/routes.js';

let counter = 0;

export function principal(tenant: string, scopes: readonly Scope[] = ALL_SCOPES, extra: Partial<Principal> = {}): Principal {
  return { principalId: `user-${tenant}`, authMethod: 'jwt', tenant, scopes, admin: false, ...extra };
}

export function findRoute(method: string, path: string): { route: Route; params: Record<string, string> } {
  const segments = path.split('/');
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    if (template.every((t, i) => (t.startsWith('{') ? ((params[t.slice(1, -1)] = decodeURIComponent(segments[i]!)), true) : t === segments[i]))) {
      return { route, params };
    }
  }
  throw new Error(`no route for ${method} ${path}`);
}

export function apiEvent(args: {
  method: string;
  path: string;
  principal?: Principal;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  iamUserArn?: string;
  sourceIp?: string;
  /** The authorizer context exactly as given (for contexts no Principal could produce, e.g. an empty tenant). */
  rawAuthorizer?: Record<string, unknown>;
}): APIGatewayProxyEvent {
  const { route, params } = findRoute(args.method, args.path);
  const body = args.rawBody ?? (args.body === undefined ? null : JSON.stringify(args.body));
  const headers: Record<string, string> = {
    ...(args.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...args.headers,
  };
  const requestId = `req-${++counter}`;
  return {
    resource: route.path,
    path: args.path,
    httpMethod: args.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: args.query ?? null,
    multiValueQueryStringParameters: args.query ? Object.fromEntries(Object.entries(args.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(params).length > 0 ? params : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer:
        args.rawAuthorizer ?? (args.principal ? { ...principalToContext(args.principal), principalId: args.principal.principalId } : null),
      httpMethod: args.method,
      identity: {
        sourceIp: args.sourceIp ?? '198.51.100.7',
        ...(args.iamUserArn ? { userArn: args.iamUserArn, caller: 'AIDAEXAMPLE', accountId: '123456789012' } : {}),
      },
      path: `/prod${args.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'r1',
      resourcePath: route.path,
      stage: 'prod',
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function lambdaContext(name = 'gatehouse-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: `aws-req-${++counter}`,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Parses a handler result's JSON body. */
export function bodyOf<T = Record<string, unknown>>(result: { body: string }): T {
  return JSON.parse(result.body) as T;
}
