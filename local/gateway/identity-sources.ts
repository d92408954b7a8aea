/**
 * The REQUEST authorizer's identity sources and result-cache TTL: what the CDK helper should deploy too.
 *
 * API Gateway's rule (FIELD-NOTES): with result caching ON (TTL > 0) every identity source must be present and
 * non-empty, or API Gateway answers 401 (UNAUTHORIZED) WITHOUT invoking the authorizer, and the cached result is
 * keyed by the identity values. With caching OFF (TTL 0) the sources are not checked and the authorizer runs for
 * every request.
 *
 * Gatehouse accepts a credential in EITHER `Authorization` or `X-API-Key` (CONTRACT §1), so with caching on and
 * both as sources, a client sending only one of them would always get 401. By default the deployment therefore runs
 * with caching OFF and declares no identity source (infra/constructs/request-authorizer.ts). Gateway cache mode
 * (GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS > 0, lambdas/core/gateway-cache.ts) turns it on with `Authorization` as the
 * only source; the local stack passes that source and TTL here. The two-source default below is what a local run
 * with a TTL and no sources gets: the conformance tests use it to reproduce API Gateway's rule.
 */

/** Identity sources in API Gateway's syntax (CDK: `IdentitySource.header('Authorization')`, …). */
export const IDENTITY_SOURCES = ['method.request.header.Authorization', 'method.request.header.X-API-Key'] as const;

/** API Gateway's authorizer result cache: OFF unless gateway cache mode is configured. */
export const AUTHORIZER_CACHE_TTL_SECONDS = 0;

const HEADER_SOURCE = /^method\.request\.header\.([A-Za-z0-9!#$%&'*+.^_`|~-]+)$/;

/** The lower-case header name of a header identity source; throws for any other kind (query strings are never read). */
export function identitySourceHeader(source: string): string {
  const match = HEADER_SOURCE.exec(source);
  if (!match?.[1]) throw new Error(`Unsupported identity source ${source}: only method.request.header.<Name> is used`);
  return match[1].toLowerCase();
}

/**
 * The identity values of a request (caching on), or undefined when one is missing or empty — API Gateway then
 * answers 401 without invoking the authorizer.
 */
export function identityValues(headerNames: readonly string[], header: (lowerName: string) => string | undefined): string[] | undefined {
  const values: string[] = [];
  for (const name of headerNames) {
    const value = header(name);
    if (value === undefined || value.trim() === '') return undefined;
    values.push(value);
  }
  return values;
}
