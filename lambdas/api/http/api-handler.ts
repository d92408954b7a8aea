/**
 * The one middleware stack every handler Lambda uses, built once per route group:
 *   request metrics (Requests {route, status}, flushed once per invocation) → Powertools logger (request-id
 *   correlation, redaction) → security headers → CORS (allow-list) → error handler (every failure becomes the
 *   RFC 9457 envelope) → dispatch by method + resource.
 * Operations are plain async functions of a parsed request; they never build envelopes or headers themselves.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { allowedOrigin, CORS_EXPOSE_HEADERS } from '../../core/cors.js';
import { AuthenticationError, GatehouseError, NotFoundError, PermissionError, PROBLEM_CONTENT_TYPE, problemFromError } from '../../core/errors.js';
import type { Api, Route } from '../../core/api-definition.js';
import { NO_METRICS, statusClassOf, UNMATCHED_ROUTE, type MetricsSink } from '../../core/metrics.js';
import { rateLimitHeadersFromContext } from '../../core/plan-context.js';
import { principalFromContext, type Principal } from '../../core/principal.js';
import type { ScopeCatalog } from '../../core/scopes.js';
import { parseJsonBody, validate } from './body.js';
import type { ApiRequest, ApiResponse } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each operation narrows its own body type
export interface Operation<TBody = any, TQuery = any> {
  readonly body?: z.ZodType<TBody>;
  readonly query?: z.ZodType<TQuery>;
  handle(request: ApiRequest<TBody> & { readonly queryParams: TQuery }): Promise<ApiResponse>;
}

/** Keyed `METHOD /resource/{param}` exactly as in the route table. */
export type Operations = Readonly<Record<string, Operation>>;

export interface ApiHandlerOptions {
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /** The deployment's API: the group's routes come from it (under whatever base path it mounts them). */
  readonly api: Api;
  /** Where each request is counted (default: nowhere); flushed at the end of every invocation. */
  readonly metrics?: MetricsSink;
}

export const operationKey = (route: Pick<Route, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** The caller as API Gateway identified it: the authorizer's context, or the IAM identity on IAM routes. */
export function principalOf(event: APIGatewayProxyEvent, route: Route, scopes: ScopeCatalog): Principal | undefined {
  if (route.auth === 'iam') {
    const identity = event.requestContext.identity;
    const arn = identity?.userArn ?? identity?.caller;
    if (!arn) return undefined;
    return { principalId: arn, authMethod: 'iam', tenant: identity?.accountId ?? 'iam', scopes: [], admin: false };
  }
  return principalFromContext(event.requestContext.authorizer, scopes);
}

function lowerCaseHeaders(event: APIGatewayProxyEvent): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) map.set(name.toLowerCase(), value);
  return map;
}

function toResult(response: ApiResponse, event: APIGatewayProxyEvent): APIGatewayProxyResult {
  // A success says what the caller's plan has left (plan-context.ts); an error says nothing it could misread.
  const limits = response.status < 400 ? rateLimitHeadersFromContext(event.requestContext?.authorizer) : {};
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...limits, ...response.headers };
  if (response.body === undefined) return { statusCode: response.status, headers, body: '' };
  headers['Content-Type'] ??= 'application/json';
  return { statusCode: response.status, headers, body: typeof response.body === 'string' ? response.body : JSON.stringify(response.body) };
}

/** Maps any error to the envelope; unexpected ones are logged in full (through the redacting logger). */
function errorEnvelope(logger: Logger): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const requestId = request.event?.requestContext?.requestId ?? request.context?.awsRequestId ?? 'unknown';
      const { error } = request;
      if (!(error instanceof GatehouseError)) logger.error('unhandled error', { error });
      else if (error.status >= 500) logger.error('dependency failure', { error });
      const problem = problemFromError(error, requestId);
      request.response = {
        statusCode: problem.status,
        headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...problem.headers },
        body: JSON.stringify(problem.body),
      };
    },
  };
}

/**
 * Counts every request once, by route and status class, after the error handler has made the response, and
 * flushes the metrics at the end of the invocation. `route` is a route key of the deployment's table, or
 * `unmatched`: never the raw path, so the dimension stays as small as the route table.
 */
function requestMetrics(metrics: MetricsSink, routeKeys: ReadonlySet<string>): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const count = (event: APIGatewayProxyEvent | undefined, status: number): void => {
    const key = `${event?.httpMethod} ${event?.resource}`;
    metrics.add('Requests', 1, { route: routeKeys.has(key) ? key : UNMATCHED_ROUTE, status: statusClassOf(status) });
    metrics.flush();
  };
  return {
    after: (request) => count(request.event, request.response?.statusCode ?? 500),
    onError: (request) => count(request.event, request.response?.statusCode ?? 500),
  };
}

/** Whether `routePath` is `opPath` itself or `opPath` mounted under a literal base path (`/gatehouse` + `/v1/keys`). */
function isMountOf(routePath: string, opPath: string): boolean {
  if (routePath === opPath) return true;
  if (opPath === '/' || !routePath.endsWith(opPath)) return false;
  return /^(\/[A-Za-z0-9._~-]+)+$/.test(routePath.slice(0, routePath.length - opPath.length));
}

/**
 * Operations are keyed as the group declares them (`GET /v1/keys`); the deployment may mount the group under a base
 * path (`/gatehouse/v1/keys`), so each route of the group is matched to the operation its own key ends with.
 */
function operationFor(route: Route, operations: Operations): string | undefined {
  return Object.keys(operations).find((key) => {
    const space = key.indexOf(' ');
    return key.slice(0, space) === route.method && isMountOf(route.path, key.slice(space + 1));
  });
}

export function createApiHandler(group: string, operations: Operations, options: ApiHandlerOptions) {
  const routes = options.api.routes.filter((r) => r.handler === group);
  const byKey = new Map<string, { route: Route; operation: Operation }>();
  const served = new Set<string>();
  for (const route of routes) {
    const opKey = operationFor(route, operations);
    if (opKey === undefined) throw new Error(`Route ${operationKey(route)} of group ${group} has no operation`);
    served.add(opKey);
    byKey.set(operationKey(route), { route, operation: operations[opKey]! });
  }
  for (const key of Object.keys(operations)) {
    if (!served.has(key)) throw new Error(`Operation ${key} of group ${group} is not in the route table`);
  }

  const dispatch = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const entry = byKey.get(`${event.httpMethod} ${event.resource}`);
    if (!entry) throw new NotFoundError('No such route.');
    const { route, operation } = entry;

    let principal: Principal | undefined;
    if (route.auth !== 'public') {
      // Defence in depth: the gateway should never let an unauthenticated request through, but if it does, refuse.
      principal = principalOf(event, route, options.api.scopes);
      if (!principal) throw new AuthenticationError();
      if (route.scope && !principal.scopes.includes(route.scope)) {
        throw new PermissionError(`This request needs the scope ${route.scope}.`, { insufficientScope: true, scope: route.scope });
      }
    }
    const headers = lowerCaseHeaders(event);
    const body: unknown = operation.body ? parseJsonBody(event, operation.body, options.maxBodyBytes) : undefined;
    const queryParams: unknown = operation.query ? validate(operation.query, event.queryStringParameters ?? {}, 'query string') : undefined;
    const response = await operation.handle({
      event,
      principal: principal ?? { principalId: 'public', authMethod: 'anonymous', tenant: 'public', scopes: [], admin: false },
      body,
      queryParams,
      pathParameters: Object.fromEntries(Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
      query: Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
      header: (name) => headers.get(name.toLowerCase()),
      requestId: event.requestContext?.requestId ?? 'unknown',
      ...(event.requestContext?.identity?.sourceIp ? { sourceIp: event.requestContext.identity.sourceIp } : {}),
    });
    return toResult(response, event);
  };

  const stack = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(requestMetrics(options.metrics ?? NO_METRICS, new Set(byKey.keys())))
    .use(injectLambdaContext(options.logger, { correlationIdPath: 'requestContext.requestId' }))
    .use(httpSecurityHeaders({ strictTransportSecurity: { maxAge: 63072000, includeSubDomains: true, preload: false } }));
  if (options.corsOrigins.length > 0) {
    const origins = [...options.corsOrigins];
    // middy looks origins up in a plain object (an Origin of `constructor` would match): decide by exact membership.
    stack.use(
      httpCors({
        origins,
        credentials: true,
        exposeHeaders: CORS_EXPOSE_HEADERS.join(', '),
        getOrigin: (incoming: string | undefined) => allowedOrigin(origins, incoming) ?? '',
      }),
    );
  }
  return stack.use(errorEnvelope(options.logger)).handler(dispatch);
}
