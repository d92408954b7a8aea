/**
 * Everything the local gateway answers by itself, built ONLY from the shared definitions CDK deploys
 * (`lambdas/core/gateway-responses.ts`): gateway responses, the WAF rate-limit response, the envelope.
 * Also maps a Lambda proxy result to the HTTP response, as API Gateway does.
 */
import { PROBLEM_CONTENT_TYPE, problemBody } from '../../lambdas/core/errors.js';
import {
  GATEWAY_RESPONSES,
  gatewayMadeHeaders,
  gatewayResponseBody,
  gatewayResponseContextHeaders,
  gatewayResponseHeaders,
  renderGatewayResponseBody,
  WAF_RATE_LIMITED,
  wafRateLimitedHeaders,
  type GatewayResponseDefinition,
  type GatewayResponseType,
} from '../../lambdas/core/gateway-responses.js';
import { WAF_REQUEST_ID } from '../../lambdas/core/waf-rules.js';
import { emptyRecord } from './records.js';

/** An HTTP answer: header values are lists so repeated headers survive. */
export interface GatewayReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string | Buffer;
  /** Close the connection after answering (the request body was not read). */
  readonly close?: boolean;
}

/** Every response type the local gateway answers with is one Gatehouse deploys (INVALID_SIGNATURE included). */
export type LocalGatewayResponseType = GatewayResponseType;

/** The definition of `type` among the deployment's gateway responses (default: the shared ones). */
export function definitionFor(type: LocalGatewayResponseType, responses: readonly GatewayResponseDefinition[] = GATEWAY_RESPONSES): GatewayResponseDefinition {
  const own = responses.find((r) => r.type === type);
  if (!own) throw new Error(`No gateway response definition for ${type}`);
  return own;
}

/**
 * Local only: `x-gatehouse-gateway-response` names the gateway response type that answered, to make local debugging
 * easy (AWS sends `x-amzn-ErrorType` with its own exception names instead; clients must not rely on either).
 */
export const GATEWAY_RESPONSE_HEADER = 'x-gatehouse-gateway-response';

/** The API's allowed browser origins: gateway-made answers carry the static CORS headers AWS would send. */
export interface GatewayReplyOptions {
  readonly corsOrigins: readonly string[];
  /** The deployment's gateway responses (lambdas/core/gateway-cache.ts gatewayResponsesFor); default the shared ones. */
  readonly responses?: readonly GatewayResponseDefinition[];
}

/** The request a gateway response answers, for its template's `$context` variables. */
export interface GatewayResponseRequest {
  readonly httpMethod: string;
  /** The matched resource (`/v1/keys/{keyId}`); empty when no route matched, as nothing names one then. */
  readonly resourcePath: string;
}

/**
 * A gateway response: the deployed one's status, headers and body (lambdas/core/gateway-responses.ts), its template
 * rendered as API Gateway renders it.
 */
export function gatewayError(
  type: LocalGatewayResponseType,
  requestId: string,
  options: GatewayReplyOptions & { close?: boolean; request?: GatewayResponseRequest; authorizerContext?: Readonly<Record<string, unknown>> },
): GatewayReply {
  const definition = definitionFor(type, options.responses);
  const request = options.request ?? { httpMethod: '', resourcePath: '' };
  return {
    status: definition.status,
    headers: {
      ...gatewayResponseHeaders(definition, options.corsOrigins),
      ...gatewayResponseContextHeaders(definition, options.authorizerContext),
      [GATEWAY_RESPONSE_HEADER]: type,
    },
    body: renderGatewayResponseBody(definition, { requestId, ...request }, options.authorizerContext),
    ...(options.close ? { close: true } : {}),
  };
}

/**
 * As AWS WAF answers a rate-rule block: its custom bodies are static (the request id is a placeholder) and it
 * refuses a custom Content-Type, deriving `application/json` from the body type. The request id is still sent in
 * the x-amzn-RequestId header.
 */
export function wafRateLimited(requestId: string, options: GatewayReplyOptions): GatewayReply {
  return {
    status: WAF_RATE_LIMITED.status,
    headers: {
      'Content-Type': 'application/json',
      ...wafRateLimitedHeaders(options.corsOrigins),
      'x-amzn-RequestId': requestId,
      [GATEWAY_RESPONSE_HEADER]: 'WAF_RATE_LIMITED',
    },
    body: gatewayResponseBody(WAF_RATE_LIMITED, WAF_REQUEST_ID),
  };
}

/** The local stack is still starting (no AWS counterpart: a deployed stage is ready when it exists). */
export function notReady(requestId: string, options: GatewayReplyOptions): GatewayReply {
  return {
    status: 503,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...gatewayMadeHeaders(options.corsOrigins), 'Retry-After': '1' },
    body: JSON.stringify(problemBody('SERVICE_UNAVAILABLE', 'The local stack is starting; retry in a moment.', requestId)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Lambda proxy result → HTTP response
// ---------------------------------------------------------------------------------------------------

/**
 * Headers a REST API does not pass through from a Lambda proxy result but renames to `x-amzn-Remapped-<name>`
 * (observed on execute-api: Authorization, Connection, Date, Server, WWW-Authenticate; Content-Length and the
 * hop-by-hop framing headers are the gateway's own). Note WWW-Authenticate: a handler-made 401 or 403 reaches the
 * client without it — only gateway responses can carry that header.
 */
const REMAPPED = new Set(['authorization', 'connection', 'content-length', 'date', 'server', 'transfer-encoding', 'upgrade', 'www-authenticate']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Does the Accept header name one of the binary media types (`*\/*` matches everything)? */
export function acceptsBinary(accept: string | undefined, binaryMediaTypes: readonly string[]): boolean {
  if (binaryMediaTypes.length === 0) return false;
  const wanted = (accept ?? '').split(',').map((part) => part.split(';')[0]?.trim().toLowerCase() ?? '');
  return binaryMediaTypes.some((type) => {
    const t = type.toLowerCase();
    if (t === '*/*') return true;
    return wanted.some((w) => w === t || (t.endsWith('/*') && w.startsWith(t.slice(0, -1))));
  });
}

/**
 * Maps a proxy integration result; undefined when it is malformed (API Gateway answers 502: "Malformed Lambda
 * proxy response"). `headers` and `multiValueHeaders` are merged; a header named in both keeps the
 * multiValueHeaders values. `isBase64Encoded` bodies are decoded to bytes only when the request's Accept
 * matches a binary media type of the API, as REST APIs do; otherwise the base64 text is sent as it is.
 */
export function proxyResultToReply(raw: unknown, options: { accept?: string; binaryMediaTypes: readonly string[] }): GatewayReply | undefined {
  if (!isRecord(raw)) return undefined;
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = raw;
  const status = typeof statusCode === 'string' && /^\d{3}$/.test(statusCode) ? Number(statusCode) : statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return undefined;
  if (headers !== undefined && headers !== null && !(isRecord(headers) && Object.values(headers).every(isScalar))) return undefined;
  if (
    multiValueHeaders !== undefined &&
    multiValueHeaders !== null &&
    !(isRecord(multiValueHeaders) && Object.values(multiValueHeaders).every((v) => Array.isArray(v) && (v as unknown[]).every(isScalar)))
  ) {
    return undefined;
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return undefined;
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') return undefined;

  const merged = new Map<string, { name: string; values: string[] }>();
  for (const [name, values] of Object.entries((multiValueHeaders ?? {}) as Record<string, (string | number | boolean)[]>)) {
    merged.set(name.toLowerCase(), { name, values: values.map(String) });
  }
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, string | number | boolean>)) {
    if (!merged.has(name.toLowerCase())) merged.set(name.toLowerCase(), { name, values: [String(value)] });
  }
  const out = emptyRecord<string[]>();
  for (const [lower, { name, values }] of merged) {
    out[REMAPPED.has(lower) ? `x-amzn-Remapped-${name}` : name] = values;
  }
  if (!merged.has('content-type')) out['Content-Type'] = ['application/json'];

  const text = typeof body === 'string' ? body : '';
  const bytes = isBase64Encoded === true && acceptsBinary(options.accept, options.binaryMediaTypes) ? Buffer.from(text, 'base64') : text;
  return { status, headers: out, body: bytes };
}
