/**
 * Gateway cache mode (`gatewayCacheTtlSeconds` > 0, docs/gateway-cache.md): API Gateway keeps the authorizer's
 * answer for that many seconds, keyed on the `Authorization` header, and answers later requests with the same header
 * from its cache without invoking the authorizer. One definition for CDK (the REQUEST authorizer and the gateway
 * responses) and for the local gateway, which emulates the same cache.
 *
 * What changes for callers:
 * - With caching on, API Gateway requires every identity source and answers 401 (UNAUTHORIZED) WITHOUT invoking the
 *   authorizer when one is missing or empty. `Authorization` is the one source every client can send, so in this
 *   mode credentials travel only as `Authorization: Bearer <API key or token>`; a request with `X-API-Key` alone is
 *   a 401 whose detail says so (the same gateway response answers every 401 in this mode).
 * - The audit and off modes serve callers without a credential; API Gateway would refuse them before the authorizer
 *   runs, so this mode requires `authMode: enforce` (checked with the settings).
 * - A cached answer is the authorizer's whole policy, evaluated again against every later request's route: the
 *   policy already names every route the principal's scopes permit (policy.ts), so it is right on every route.
 * - A revoked or expired credential is refused within the decision cache's TTL plus this one, which must fit in the
 *   revocation window (revocation-window.ts).
 * - Requests answered from the cache never reach the authorizer: they are not counted in usage, metrics or per-key
 *   limits (docs/gateway-cache.md says how these interact).
 */
import { ConfigError } from './errors.js';
import { GATEWAY_RESPONSES, type GatewayResponseDefinition } from './gateway-responses.js';
import { checkRevocationWindow, settingName, type RevocationSettings } from './revocation-window.js';
import type { SettingsSource, SettingsValues } from './settings.js';
import { PlanCatalog } from './plans.js';

/** The one header API Gateway keys its cache on in this mode. */
export const GATEWAY_CACHE_HEADER = 'Authorization';

/** The REQUEST authorizer's identity source in this mode, in API Gateway's syntax (CDK: IdentitySource.header). */
export const GATEWAY_CACHE_IDENTITY_SOURCE = `method.request.header.${GATEWAY_CACHE_HEADER}`;

/** The 401's detail in this mode: every 401 (no header, X-API-Key only, or a refused credential) says where a credential goes. */
export const GATEWAY_CACHE_UNAUTHORIZED_DETAIL =
  'The request carries no valid credential. This API reads credentials only from the Authorization header (Authorization: Bearer <API key or token>); X-API-Key alone is not accepted here.';

/** How API Gateway runs the REQUEST authorizer. */
export interface AuthorizerCaching {
  /** API Gateway's result TTL; 0 is off. */
  readonly ttlSeconds: number;
  /** Identity sources: none when off (the authorizer runs for every request and either header works). */
  readonly identitySources: readonly string[];
}

export function authorizerCachingOf(settings: Pick<SettingsValues, 'gatewayCacheTtlSeconds'>): AuthorizerCaching {
  const ttlSeconds = settings.gatewayCacheTtlSeconds;
  return ttlSeconds > 0 ? { ttlSeconds, identitySources: [GATEWAY_CACHE_IDENTITY_SOURCE] } : { ttlSeconds: 0, identitySources: [] };
}

/** The gateway responses of a deployment: the shared definitions, with the 401 naming the one header in this mode. */
export function gatewayResponsesFor(caching: AuthorizerCaching): readonly GatewayResponseDefinition[] {
  if (caching.ttlSeconds === 0) return GATEWAY_RESPONSES;
  return GATEWAY_RESPONSES.map((r) => (r.type === 'UNAUTHORIZED' ? { ...r, detail: GATEWAY_CACHE_UNAUTHORIZED_DETAIL } : r));
}

export type GatewayCacheSettings = RevocationSettings & Pick<SettingsValues, 'authMode'> & Partial<Pick<SettingsValues, 'plans'>>;

/**
 * The rules between the cache settings that no single schema states: this mode only with `authMode: enforce`, and
 * both caches within the revocation window. Throws ConfigError naming the key (`source`: variable or context key).
 */
export function checkGatewayCacheSettings(settings: GatewayCacheSettings, source: SettingsSource = 'env'): void {
  if (settings.gatewayCacheTtlSeconds > 0 && settings.authMode !== 'enforce') {
    throw new ConfigError(
      settingName('gatewayCacheTtlSeconds', source),
      `0 while ${settingName('authMode', source)} is ${settings.authMode}: with API Gateway's cache on, a request without ` +
        'Authorization is refused before the authorizer runs, so callers without a credential could not be served as anonymous',
    );
  }
  // A request API Gateway answers from its cache never reaches the authorizer, so it is never counted: per-key
  // limits would count one request per credential per cache TTL (docs/plans.md). One or the other.
  if (settings.gatewayCacheTtlSeconds > 0 && settings.plans && new PlanCatalog(settings.plans).limitsAnything) {
    throw new ConfigError(
      settingName('gatewayCacheTtlSeconds', source),
      `0 while ${settingName('plans', source)} limits requests: requests answered from API Gateway's cache skip the authorizer, so rate limits and quotas would not count them (docs/plans.md)`,
    );
  }
  checkRevocationWindow(settings, source);
}
