/**
 * `gatehouse/runtime`: for a team's own functions and services behind Gatehouse. It reads the principal the
 * authorizer established and answers refusals in Gatehouse's one error shape (RFC 9457 problem details with a
 * stable `code`), so a client sees the same errors from the team's routes as from Gatehouse's.
 *
 * - Lambda proxy integrations: the principal is in `event.requestContext.authorizer` ({@link principalFromEvent},
 *   {@link gatehouseHandler}).
 * - HTTP integrations: the gateway sends it as `X-Gatehouse-*` request headers ({@link principalFromHeaders}); the
 *   service must be reachable only through the gateway, which overwrites those headers.
 *
 * Small on purpose: no AWS SDK, no middleware framework.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AuthenticationError, GatehouseError, PermissionError, PROBLEM_CONTENT_TYPE, problemFromError } from '../core/errors.js';
import { principalFromContext, type Principal } from '../core/principal.js';
import { PRINCIPAL_HEADERS } from '../core/principal-headers.js';

export type { Principal } from '../core/principal.js';
export { AuthenticationError, GatehouseError, NotFoundError, PermissionError, ValidationError, PROBLEM_CONTENT_TYPE } from '../core/errors.js';
export { PRINCIPAL_HEADERS } from '../core/principal-headers.js';
import { rateLimitHeadersFromContext } from '../core/plan-context.js';

/** The caller, from a Lambda proxy event behind the Gatehouse authorizer; undefined when there is none. */
/**
 * The `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-09) for the caller's plan, from
 * the authorizer's context: add them to a successful response (gatehouseHandler does). Empty without plans.
 */
export function rateLimitHeaders(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Record<string, string> {
  return rateLimitHeadersFromContext(event.requestContext?.authorizer);
}

export function principalFromEvent(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Principal | undefined {
  return principalFromContext(event.requestContext?.authorizer);
}

/**
 * The caller, from the `X-Gatehouse-*` headers an HTTP integration receives (header names in any case; a Node
 * `IncomingHttpHeaders` or a plain record). Undefined when they are absent or malformed.
 */
export function principalFromHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>): Principal | undefined {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    // A repeated principal header is not something the gateway sends: refuse rather than pick one.
    if (Array.isArray(value)) {
      if (name.toLowerCase().startsWith('x-gatehouse-')) return undefined;
      continue;
    }
    if (typeof value === 'string') lower.set(name.toLowerCase(), value);
  }
  const context: Record<string, string> = {};
  for (const [header, key] of Object.entries(PRINCIPAL_HEADERS)) {
    const value = lower.get(header.toLowerCase());
    if (value !== undefined) context[key] = value;
  }
  return principalFromContext(context);
}

export interface RequireOptions {
  /** The scope the operation needs (403 `insufficient_scope` naming it when the caller lacks it). */
  readonly scope?: string;
}

/** The caller, or a 401/403 {@link GatehouseError} to answer with. */
export function requirePrincipal(principal: Principal | undefined, options: RequireOptions = {}): Principal {
  if (!principal) throw new AuthenticationError();
  if (options.scope !== undefined && !principal.scopes.includes(options.scope)) {
    throw new PermissionError(`This request needs the scope ${options.scope}.`, { insufficientScope: true, scope: options.scope });
  }
  return principal;
}

/** Any error as Gatehouse's envelope: a GatehouseError as itself, anything else as a bare 500 (log it yourself). */
export function problemResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  const problem = problemFromError(error, requestId);
  return {
    statusCode: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...problem.headers },
    body: JSON.stringify(problem.body),
  };
}

export interface GatehouseRequest {
  readonly event: APIGatewayProxyEvent;
  readonly principal: Principal;
}

/** What a handler may return: a full proxy result, or a status and a JSON body. */
export type HandlerResult = APIGatewayProxyResult | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };

/**
 * A Lambda proxy handler that runs only for a caller holding `scope` (when given), with errors in Gatehouse's
 * envelope. Throw a GatehouseError (NotFoundError, ValidationError …) to refuse; anything else becomes a 500 whose
 * cause is passed to `onError` (default: console.error), never to the client.
 */
export function gatehouseHandler(
  options: RequireOptions & { readonly onError?: (error: unknown) => void },
  handle: (request: GatehouseRequest) => Promise<HandlerResult>,
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  // eslint-disable-next-line no-console -- a team's function without a logger of its own: CloudWatch gets stderr
  const onError = options.onError ?? ((error: unknown) => console.error('unhandled error', error));
  return async (event) => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    try {
      const principal = requirePrincipal(principalFromEvent(event), options);
      const result = await handle({ event, principal });
      // A success carries what the caller's plan has left (RateLimit fields), as Gatehouse's own handlers do.
      const limits = rateLimitHeaders(event);
      if ('statusCode' in result) return result.statusCode < 400 ? { ...result, headers: { ...limits, ...result.headers } } : result;
      return {
        statusCode: result.status,
        headers: {
          'Cache-Control': 'no-store',
          ...(result.status < 400 ? limits : {}),
          ...(result.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...result.headers,
        },
        body: result.body === undefined ? '' : JSON.stringify(result.body),
      };
    } catch (error) {
      if (!(error instanceof GatehouseError)) onError(error);
      return problemResponse(error, requestId);
    }
  };
}
