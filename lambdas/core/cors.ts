/**
 * CORS settings shared by the handlers, CDK's preflight configuration, the gateway responses, the WAF 429 and the
 * local gateway. Origins come from configuration (none by default); credentials are allowed only because origins
 * are an explicit list, never `*`. Only an allow-listed origin is ever named in Access-Control-Allow-Origin.
 */
export const CORS_ALLOW_HEADERS = ['Authorization', 'X-API-Key', 'Content-Type', 'If-Match', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Content-Sha256'];
export const CORS_EXPOSE_HEADERS = ['ETag', 'Retry-After', 'WWW-Authenticate', 'Location', 'RateLimit', 'RateLimit-Policy'];
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * The origin to allow for a request that sent `origin`: the request's own origin when it is exactly one of the
 * allowed ones, else undefined. An array lookup, not an object one: `constructor` or `__proto__` is no origin.
 */
export function allowedOrigin(origins: readonly string[], origin: string | undefined): string | undefined {
  return origin !== undefined && origins.includes(origin) ? origin : undefined;
}

/**
 * CORS headers of the answers API Gateway and WAF make themselves (gateway responses, the WAF 429). Both are static
 * in AWS: a gateway response header is a fixed string or a copy of a request header, a WAF custom response header a
 * fixed string; neither can look the request's Origin up in a list. So:
 * - no origin configured: no CORS headers;
 * - exactly one: that origin, always, with credentials allowed and the exposed headers. A browser at that origin
 *   can read the error; a page anywhere else is refused by its browser, as it should be;
 * - several: none. Copying the request's Origin (`method.request.header.Origin`) would allow EVERY origin, and
 *   naming one fixed origin would still fail the others. Browsers at the allowed origins then see errors made by
 *   the gateway or WAF (401, 403, 404, 413, 429, 5xx before a handler runs) as CORS failures — the request still
 *   failed, they just cannot read why — while every handler response carries the right CORS headers. A deployment
 *   whose browser clients must read those errors configures one origin per API.
 * The local gateway sends exactly these headers too.
 */
export function staticCorsHeaders(origins: readonly string[]): Readonly<Record<string, string>> {
  const [only] = origins;
  if (origins.length !== 1 || only === undefined) return {};
  return {
    'Access-Control-Allow-Origin': only,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS.join(', '),
  };
}
