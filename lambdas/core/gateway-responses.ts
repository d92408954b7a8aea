/**
 * The envelope (CONTRACT §4) for answers API Gateway and WAF give themselves, before or instead of a handler, with
 * every header they carry. CDK deploys these as gateway responses and WAF custom responses; the local gateway
 * answers with the very same definitions. API Gateway's gateway responses are static templates: only the `$context`
 * variables of {@link GATEWAY_TEMPLATE_VARIABLES} vary (API Gateway fills them in; the local gateway renders the
 * same template with {@link renderGatewayTemplate}); WAF's custom responses are wholly static.
 */
import { staticCorsHeaders } from './cors.js';
import type { PlanLimit } from './plan-limiter.js';
import { ERROR_CODES, PROBLEM_CONTENT_TYPE, problemType, type ErrorCode, WWW_AUTHENTICATE_401, WWW_AUTHENTICATE_403_SCOPE } from './errors.js';

export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'INVALID_API_KEY'
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
  /**
   * Headers whose value is one of the authorizer's context values (`$context.authorizer.<name>`), by header: absent
   * from the answer when the context lacks the value. Only the plan-limit response has any.
   */
  readonly contextHeaders?: Readonly<Record<string, string>>;
  /**
   * Answers that depend on the authorizer's context value `variantOn` (the plan-limit response): the first variant
   * whose `when` equals it, else the definition's own code and detail. Details may name context values as
   * `$context.authorizer.<name>`.
   */
  readonly variants?: { readonly on: string; readonly cases: readonly { readonly when: string; readonly code: ErrorCode; readonly detail: string }[] };
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
 * A request over its credential's plan (docs/plans.md): the authorizer hands API Gateway a usage identifier key that
 * names no API key, and API Gateway answers INVALID_API_KEY itself, before any integration runs. Clients cannot reach
 * this response any other way (API keys come from the authorizer only: apiKeySource AUTHORIZER), so it is answered as
 * the 429 it means, from the decision's context: its Retry-After, and which limit (rate or quota) with the instant the
 * quota resets.
 */
const QUOTA_LIMIT: PlanLimit = 'quota';
const PLAN_LIMITED: GatewayResponseDefinition = {
  ...def('INVALID_API_KEY', 'RATE_LIMITED', "This credential's plan allows no more requests right now; retry after the time in Retry-After."),
  contextHeaders: { 'Retry-After': 'retryAfter' },
  variants: {
    on: 'limit',
    cases: [
      {
        when: QUOTA_LIMIT,
        code: 'QUOTA_EXCEEDED',
        detail: "The quota of this credential's plan is used up until $context.authorizer.quotaResetsAt; retry after the time in Retry-After.",
      },
    ],
  },
};

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
  PLAN_LIMITED,
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

/** The context values a gateway response may read (`$context.authorizer.<name>`): names only, checked by both renderers. */
const CONTEXT_VALUE = /\$context\.authorizer\.([A-Za-z]+)/g;

/**
 * The deployed template of a definition: its JSON body, or with variants a VTL choice between bodies. The local
 * gateway renders the same text with {@link renderGatewayResponseBody}.
 */
export function gatewayResponseTemplate(definition: GatewayResponseDefinition): string {
  const fallback = gatewayResponseBody(definition, '$context.requestId');
  if (!definition.variants) return fallback;
  const { on, cases } = definition.variants;
  const branches = cases.map((c, i) => `#${i === 0 ? 'if' : 'elseif'}($context.authorizer.${on} == "${c.when}")${gatewayResponseBody({ ...definition, ...c }, '$context.requestId')}`);
  return `${branches.join('')}#else${fallback}#end`;
}

/**
 * What API Gateway makes of {@link gatewayResponseTemplate} for one request: the variant the context picks, with the
 * request id and the context values in place (each JSON-escaped: they sit inside JSON strings).
 */
export function renderGatewayResponseBody(definition: GatewayResponseDefinition, values: GatewayTemplateValues, context: Readonly<Record<string, unknown>> = {}): string {
  const chosen = definition.variants?.cases.find((c) => c.when === context[definition.variants!.on]);
  const body = renderGatewayTemplate(gatewayResponseBody(chosen ? { ...definition, ...chosen } : definition, '$context.requestId'), values);
  const valueOf = (name: string): string => {
    const value = context[name];
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
  };
  return body.replace(CONTEXT_VALUE, (_, name: string) => JSON.stringify(valueOf(name)).slice(1, -1));
}

/** The context-valued headers of a definition for one request (absent where the context has no value). */
export function gatewayResponseContextHeaders(definition: GatewayResponseDefinition, context: Readonly<Record<string, unknown>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, name] of Object.entries(definition.contextHeaders ?? {})) {
    const value = context[name];
    if ((typeof value === 'string' && value !== '') || typeof value === 'number') out[header] = String(value);
  }
  return out;
}

/** The body as JSON with a request id (WAF's static bodies pass a placeholder). */
export function gatewayResponseBody(definition: Pick<GatewayResponseDefinition, 'code' | 'detail' | 'status'>, requestId: string): string {
  const { title } = ERROR_CODES[definition.code];
  return JSON.stringify({ type: problemType(definition.code), title, status: definition.status, detail: definition.detail, code: definition.code, requestId });
}

/** The VTL a template may hold besides the request variables: the authorizer's context values and the variant choice. */
const AUTHORIZER_SYNTAX = /#(?:if|elseif)\(\$context\.authorizer\.[A-Za-z]+ == "[a-z]+"\)|#else|#end|\$context\.authorizer\.[A-Za-z]+/g;

/** The `$context` variables and VTL a template uses, in order of appearance (CDK refuses any other `$` or `#`). */
export function templateVariablesOf(template: string): string[] {
  return [...template.matchAll(new RegExp(`${TEMPLATE_VARIABLE.source}|${AUTHORIZER_SYNTAX.source}`, 'g'))].map((m) => m[0]);
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
