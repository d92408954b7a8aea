/**
 * The envelope (CONTRACT §4) for answers API Gateway and WAF give themselves, before or instead of a handler, with
 * every header they carry. CDK deploys these as gateway responses and WAF custom responses; the local gateway
 * answers with the very same definitions. API Gateway's gateway responses are static templates: only the `$context`
 * variables of {@link GATEWAY_TEMPLATE_VARIABLES} vary (API Gateway fills them in; the local gateway renders the
 * same template with {@link renderGatewayTemplate}); WAF's custom responses are wholly static.
 */
import { staticCorsHeaders } from './cors.js';
import { ERROR_CODES, PROBLEM_CONTENT_TYPE, problemType, type ErrorCode, WWW_AUTHENTICATE_401, WWW_AUTHENTICATE_403_SCOPE } from './errors.js';

export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'WAF_FILTERED'
  | 'AUTHORIZER_FAILURE'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'REQUEST_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BAD_REQUEST_BODY'
  | 'BAD_REQUEST_PARAMETERS'
  | 'INVALID_SIGNATURE'
  | 'EXPIRED_TOKEN'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

export interface GatewayResponseDefinition {
  readonly type: GatewayResponseType;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;
}

const def = (type: GatewayResponseType, code: ErrorCode, detail: string, headers: Record<string, string> = {}, status: number = ERROR_CODES[code].status): GatewayResponseDefinition => ({
  type,
  status,
  code,
  detail,
  headers,
});

export const RETRY_AFTER_THROTTLED_SECONDS = 1;

/**
 * The `$context` variables a gateway response's text may use. A template sees no route facts beyond these (no
 * VTL logic, no lookup), so the ACCESS_DENIED answer names the method and resource, and points to where the scope
 * is published, instead of naming the scope itself. None of them is client input that could be reflected:
 * `resourcePath` is the matched resource's template (`/v1/keys/{keyId}`), not the request's path.
 */
export const GATEWAY_TEMPLATE_VARIABLES = ['requestId', 'httpMethod', 'resourcePath'] as const;

export type GatewayTemplateValues = Readonly<Record<(typeof GATEWAY_TEMPLATE_VARIABLES)[number], string>>;

const TEMPLATE_VARIABLE = new RegExp(`\\$context\\.(${GATEWAY_TEMPLATE_VARIABLES.join('|')})\\b`, 'g');

/**
 * Choices worth knowing:
 * - MISSING_AUTHENTICATION_TOKEN is what API Gateway answers for an unknown route and for a call to an IAM route
 *   that carries no SigV4 `Authorization` (unsigned, or with an API key in `X-API-Key`): it cannot tell the two
 *   apart, so neither can the message. The contract wants unknown routes to be a 404, so it is one.
 * - ACCESS_DENIED is the authorizer's policy refusing this route: the credential lacks the route's scope. The
 *   template cannot look the scope up, so it names the method and resource and where the scope is published.
 * - AUTHORIZER_FAILURE means the authorizer threw something other than `Unauthorized`: a store, JWKS or secret
 *   outage. That is transient, so 503 with Retry-After, not API Gateway's default 500.
 * - AUTHORIZER_CONFIGURATION_ERROR (a malformed authorizer result) is a bug: 500.
 */
export const GATEWAY_RESPONSES: readonly GatewayResponseDefinition[] = [
  def('UNAUTHORIZED', 'AUTHENTICATION_FAILED', 'The request carries no valid credential.', { 'WWW-Authenticate': WWW_AUTHENTICATE_401 }),
  def(
    'ACCESS_DENIED',
    'PERMISSION_DENIED',
    "The credential does not grant the scope that $context.httpMethod $context.resourcePath needs; the route's x-gatehouse-scope in /openapi.json names it.",
    { 'WWW-Authenticate': WWW_AUTHENTICATE_403_SCOPE },
  ),
  def('MISSING_AUTHENTICATION_TOKEN', 'NOT_FOUND', 'No such route, or this route needs AWS SigV4 (IAM) signing.'),
  def('RESOURCE_NOT_FOUND', 'NOT_FOUND', 'No such route.'),
  def('THROTTLED', 'RATE_LIMITED', 'Too many requests; retry after the time in Retry-After.', { 'Retry-After': String(RETRY_AFTER_THROTTLED_SECONDS) }),
  def('QUOTA_EXCEEDED', 'RATE_LIMITED', 'Quota exceeded; retry after the time in Retry-After.', { 'Retry-After': '60' }),
  def('WAF_FILTERED', 'PERMISSION_DENIED', 'The request was blocked by the web application firewall.'),
  def('AUTHORIZER_FAILURE', 'SERVICE_UNAVAILABLE', 'Credentials cannot be checked right now; retry later.', { 'Retry-After': '1' }),
  def('AUTHORIZER_CONFIGURATION_ERROR', 'INTERNAL_ERROR', 'The gateway is misconfigured.'),
  def('REQUEST_TOO_LARGE', 'PAYLOAD_TOO_LARGE', 'The request is larger than the gateway accepts.'),
  def('UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type.'),
  def('BAD_REQUEST_BODY', 'VALIDATION_ERROR', 'The request body is invalid.'),
  def('BAD_REQUEST_PARAMETERS', 'VALIDATION_ERROR', 'The request parameters are invalid.'),
  def('INVALID_SIGNATURE', 'PERMISSION_DENIED', 'The request signature is invalid or expired.'),
  def('EXPIRED_TOKEN', 'PERMISSION_DENIED', 'The security token has expired.'),
  def('INTEGRATION_FAILURE', 'SERVICE_UNAVAILABLE', 'The service failed to answer; retry later.', { 'Retry-After': '1' }, 502),
  def('INTEGRATION_TIMEOUT', 'SERVICE_UNAVAILABLE', 'The service did not answer in time; retry later.', { 'Retry-After': '1' }, 504),
  def('DEFAULT_4XX', 'VALIDATION_ERROR', 'The request was refused.', {}, 400),
  def('DEFAULT_5XX', 'INTERNAL_ERROR', 'An unexpected error occurred.', {}, 500),
];

export function gatewayResponse(type: GatewayResponseType): GatewayResponseDefinition {
  const found = GATEWAY_RESPONSES.find((r) => r.type === type);
  if (!found) throw new Error(`No gateway response ${type}`);
  return found;
}

/** The body as JSON with a request id (WAF's static bodies pass a placeholder). */
export function gatewayResponseBody(definition: Pick<GatewayResponseDefinition, 'code' | 'detail' | 'status'>, requestId: string): string {
  const { title } = ERROR_CODES[definition.code];
  return JSON.stringify({ type: problemType(definition.code), title, status: definition.status, detail: definition.detail, code: definition.code, requestId });
}

/** The body template CDK deploys: the envelope with `$context` variables left for API Gateway to fill in. */
export function gatewayResponseTemplate(definition: Pick<GatewayResponseDefinition, 'code' | 'detail' | 'status'>): string {
  return gatewayResponseBody(definition, '$context.requestId');
}

/** The `$context` variables a template uses, in order of appearance (CDK refuses any other `$` or `#`). */
export function templateVariablesOf(template: string): string[] {
  return [...template.matchAll(TEMPLATE_VARIABLE)].map((m) => m[0]);
}

/**
 * Fills in a template's `$context` variables as API Gateway does, for the local gateway. The values are escaped for
 * the JSON string they land in (API Gateway inserts them as they are; Gatehouse's values never need escaping).
 */
export function renderGatewayTemplate(template: string, values: GatewayTemplateValues): string {
  return template.replace(TEMPLATE_VARIABLE, (_match, name: keyof GatewayTemplateValues) => JSON.stringify(values[name]).slice(1, -1));
}

/**
 * Headers every answer the gateway or WAF makes itself carries: never stored by a cache (an error, and the
 * Retry-After in it, is about this moment), and the static CORS headers ({@link staticCorsHeaders}).
 */
export function gatewayMadeHeaders(corsOrigins: readonly string[]): Record<string, string> {
  return { 'Cache-Control': 'no-store', ...staticCorsHeaders(corsOrigins) };
}

/** Every header of a gateway response, as CDK deploys it and the local gateway sends it. */
export function gatewayResponseHeaders(definition: Pick<GatewayResponseDefinition, 'headers'>, corsOrigins: readonly string[]): Record<string, string> {
  return { 'Content-Type': PROBLEM_CONTENT_TYPE, ...gatewayMadeHeaders(corsOrigins), ...definition.headers };
}

/** WAF rate-rule blocks: 429 in the envelope. WAF bodies are static, so the request id is WAF's own header. */
export const WAF_RATE_LIMITED = {
  status: 429,
  code: 'RATE_LIMITED' as const,
  detail: 'Rate limit exceeded; retry after the time in Retry-After.',
  /** A rate-based rule re-evaluates about every 10 s and blocks for at least that long. */
  retryAfterSeconds: 10,
  customResponseBodyKey: 'gatehouse-rate-limited',
};

/**
 * The headers of the WAF 429, as the web ACL's custom response deploys them. No Content-Type: WAF refuses a custom
 * one and derives `application/json` from the body's type.
 */
export function wafRateLimitedHeaders(corsOrigins: readonly string[]): Record<string, string> {
  return { 'Retry-After': String(WAF_RATE_LIMITED.retryAfterSeconds), ...gatewayMadeHeaders(corsOrigins) };
}
