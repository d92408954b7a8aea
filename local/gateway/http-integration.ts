/**
 * HTTP proxy integrations (a team's `http` target, lambdas/app.ts): what API Gateway's HTTP_PROXY integration does
 * with the request-parameter mappings Gatehouse deploys, done by the local gateway over a real HTTP connection.
 *
 * - URL: the target's URL + the route's path with its parameters filled in (decoded, then percent-encoded again, as
 *   API Gateway substitutes `{param}` into an integration URI), + the query string exactly as the client sent it.
 *   A parameter that is a dot segment (`.`, `..`, however encoded) is refused: the service, or any URL library on
 *   the way, would resolve it to another path than the one whose scope was checked.
 * - Headers: the client's, minus hop-by-hop ones (RFC 9110 §7.6.1, and any the Connection header names) and minus
 *   EVERY client-sent `X-Gatehouse-*` header; then the principal's `X-Gatehouse-*` headers (principal-headers.ts),
 *   which a service behind Gatehouse may trust only because no client can set them. Host is the service's.
 * - The answer: the service's status, headers (hop-by-hop ones dropped) and body, up to API Gateway's 10 MB.
 *   A connection failure, a malformed or oversized answer is the caller's INTEGRATION_FAILURE (502); no answer
 *   within the timeout is INTEGRATION_TIMEOUT (504). Redirects are passed on, never followed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Route } from '../../lambdas/core/api-definition.js';
import { GATEHOUSE_CREDENTIAL_HEADERS, PRINCIPAL_HEADER_PREFIX } from '../../lambdas/core/principal-headers.js';
import { headerMaps, type GatewayRequest } from './events.js';
import { emptyRecord } from './records.js';
import type { GatewayReply } from './responses.js';

export interface HttpIntegration {
  /** The service's base URL (http or https, no query); the route's path is appended to its path. */
  readonly url: string;
  /** Default: the gateway's integration timeout. */
  readonly timeoutMs?: number;
}

/** Headers that belong to one connection, never forwarded by a proxy (RFC 9110 §7.6.1, plus the legacy ones). */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers the gateway sets itself for the service. */
const GATEWAY_SET: ReadonlySet<string> = new Set(['host', 'content-length', 'expect']);

/** Blanked on token and IAM routes, as in AWS (lambdas/core/principal-headers.ts). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(GATEHOUSE_CREDENTIAL_HEADERS.map((h) => h.toLowerCase()));

const isParam = (segment: string): boolean => segment.startsWith('{') && segment.endsWith('}');

/** The route's path with its (decoded) parameters encoded back in; undefined when one is a dot segment. */
export function filledPath(route: Pick<Route, 'path'>, pathParameters: Readonly<Record<string, string>>): string | undefined {
  const out: string[] = [];
  for (const segment of route.path.split('/')) {
    if (!isParam(segment)) {
      out.push(segment);
      continue;
    }
    const value = pathParameters[segment.slice(1, -1)];
    if (value === undefined || value === '' || value === '.' || value === '..') return undefined;
    out.push(encodeURIComponent(value));
  }
  return out.join('/');
}

/** Names listed in Connection header values (each also hop-by-hop). */
function connectionListed(values: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const value of values) for (const name of value.split(',')) if (name.trim() !== '') names.add(name.trim().toLowerCase());
  return names;
}

function valuesOf(headers: Readonly<Record<string, readonly string[]>>, lowerName: string): string[] {
  return Object.entries(headers).flatMap(([name, values]) => (name.toLowerCase() === lowerName ? [...values] : []));
}

export interface UpstreamRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

/**
 * The request the service receives; undefined when a path parameter is refused. `principal` holds the
 * `X-Gatehouse-*` headers of the caller (none for a public route).
 */
export function upstreamRequest(
  target: HttpIntegration,
  request: GatewayRequest,
  route: Pick<Route, 'path' | 'auth'>,
  pathParameters: Readonly<Record<string, string>>,
  principal: Readonly<Record<string, string>>,
): UpstreamRequest | undefined {
  const path = filledPath(route, pathParameters);
  if (path === undefined) return undefined;
  const base = new URL(target.url);
  const url = new URL(base.href);
  // Assigned as text, not resolved: the filled path has no dot segments left to normalise.
  url.pathname = base.pathname.replace(/\/+$/, '') + path;
  url.search = request.rawQuery === '' ? '' : `?${request.rawQuery}`;

  const { multiValueHeaders } = headerMaps(request);
  const dropped = connectionListed(valuesOf(multiValueHeaders, 'connection'));
  const headers = emptyRecord<string | string[]>();
  for (const [name, values] of Object.entries(multiValueHeaders)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower) || GATEWAY_SET.has(lower) || lower.startsWith(PRINCIPAL_HEADER_PREFIX)) continue;
    if (route.auth !== 'public' && CREDENTIAL_HEADERS.has(lower)) continue;
    headers[name] = values.length === 1 ? values[0]! : [...values];
  }
  if (route.auth !== 'public') for (const name of GATEHOUSE_CREDENTIAL_HEADERS) headers[name] = '';
  for (const [name, value] of Object.entries(principal)) headers[name] = value;
  headers.Host = url.host;
  if (request.body.length > 0) headers['Content-Length'] = String(request.body.length);
  return { url, method: request.method, headers, body: request.body };
}

export type UpstreamResult = { readonly ok: true; readonly reply: GatewayReply } | { readonly ok: false; readonly reason: 'failure' | 'timeout' };

/** The service's answer as the gateway sends it on: hop-by-hop headers and the framing dropped. */
function replyOf(response: IncomingMessage, body: Buffer): GatewayReply {
  const raw = response.rawHeaders;
  const dropped = connectionListed(raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'connection'));
  const headers = new Map<string, { name: string; values: string[] }>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower) || lower === 'content-length') continue;
    const entry = headers.get(lower) ?? headers.set(lower, { name, values: [] }).get(lower)!;
    entry.values.push(raw[i + 1]!);
  }
  const out = emptyRecord<string[]>();
  for (const { name, values } of headers.values()) out[name] = values;
  return { status: response.statusCode ?? 502, headers: out, body };
}

/** Sends the request and reads the whole answer; never throws. */
export function callUpstream(call: UpstreamRequest, options: { readonly timeoutMs: number; readonly maxResponseBytes: number }): Promise<UpstreamResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: UpstreamResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const send = call.url.protocol === 'https:' ? httpsRequest : httpRequest;
    // One connection per request (no pool): nothing outlives the exchange, and the service sees each call alone.
    const req = send(call.url, { method: call.method, headers: call.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxResponseBytes) {
          req.destroy();
          settle({ ok: false, reason: 'failure' });
          return;
        }
        chunks.push(chunk);
      });
      response.once('end', () => settle({ ok: true, reply: replyOf(response, Buffer.concat(chunks)) }));
      response.once('error', () => settle({ ok: false, reason: 'failure' }));
      // The service went away mid-answer: what arrived is not an answer.
      response.once('close', () => {
        if (!response.complete) settle({ ok: false, reason: 'failure' });
      });
    });
    const timer = setTimeout(() => {
      settle({ ok: false, reason: 'timeout' });
      req.destroy();
    }, options.timeoutMs);
    req.once('error', () => settle({ ok: false, reason: 'failure' }));
    req.end(call.body.length > 0 ? call.body : undefined);
  });
}
