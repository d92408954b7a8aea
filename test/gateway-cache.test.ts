/**
 * Gateway cache mode and the revocation window (lambdas/core/gateway-cache.ts, revocation-window.ts): the settings,
 * the rules between them, the identity source and the 401 that says where a credential goes.
 */
import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../lambdas/core/api-key.js';
import { extractCredential } from '../lambdas/core/credentials.js';
import { ConfigError } from '../lambdas/core/errors.js';
import {
  authorizerCachingOf,
  checkGatewayCacheSettings,
  GATEWAY_CACHE_HEADER,
  GATEWAY_CACHE_IDENTITY_SOURCE,
  GATEWAY_CACHE_UNAUTHORIZED_DETAIL,
  gatewayResponsesFor,
} from '../lambdas/core/gateway-cache.js';
import { GATEWAY_RESPONSES } from '../lambdas/core/gateway-responses.js';
import { checkRevocationWindow, revocationBoundSeconds } from '../lambdas/core/revocation-window.js';
import { readSettings } from '../lambdas/core/settings.js';

const NAMES = ['authMode', 'cacheTtlSeconds', 'gatewayCacheTtlSeconds', 'revocationWindowSeconds'] as const;
const fromEnv = (env: Record<string, string>) => readSettings(NAMES, env);

describe('gateway cache settings', () => {
  it('defaults: API Gateway’s cache off, a 5 s revocation window that the default decision cache (3 s) fits in', () => {
    const s = fromEnv({});
    expect(s).toEqual({ authMode: 'enforce', cacheTtlSeconds: 3, gatewayCacheTtlSeconds: 0, revocationWindowSeconds: 5 });
    expect(revocationBoundSeconds(s)).toBe(3);
    expect(() => checkGatewayCacheSettings(s)).not.toThrow();
    expect(authorizerCachingOf(s)).toEqual({ ttlSeconds: 0, identitySources: [] });
  });

  it.each([
    ['GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS', '-1', /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: expected an integer from 0 \(off\) to 300/],
    ['GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS', '301', /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS/],
    ['GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS', '1.5', /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS/],
    ['GATEHOUSE_REVOCATION_WINDOW_SECONDS', '0', /GATEHOUSE_REVOCATION_WINDOW_SECONDS: expected an integer from 1 to 300/],
    ['GATEHOUSE_REVOCATION_WINDOW_SECONDS', '3600', /GATEHOUSE_REVOCATION_WINDOW_SECONDS/],
  ])('refuses %s=%s naming the variable', (name, value, message) => {
    expect(() => fromEnv({ [name]: value })).toThrow(message);
  });

  it('both caches must fit in the revocation window: the sum over it is refused, naming the cache to shorten', () => {
    // With the default decision cache (3 s), 2 s of API Gateway's cache fill the 5 s window exactly.
    expect(() => checkGatewayCacheSettings(fromEnv({ GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '2' }))).not.toThrow();
    expect(() => checkGatewayCacheSettings(fromEnv({ GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '3' }))).toThrow(
      /GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: expected at most 2: .*6 s, longer than the revocation window \(GATEHOUSE_REVOCATION_WINDOW_SECONDS 5\)/,
    );
    // The whole window for API Gateway's cache when the decision cache is off.
    expect(() => checkGatewayCacheSettings(fromEnv({ GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '5', GATEHOUSE_CACHE_TTL_SECONDS: '0' }))).not.toThrow();
    // A window shorter than the decision cache names the decision cache, in the context's key names at synth.
    const context = readSettings(NAMES, { revocationWindowSeconds: 2 }, 'context');
    expect(() => checkRevocationWindow(context, 'context')).toThrow(ConfigError);
    expect(() => checkRevocationWindow(context, 'context')).toThrow(/^Invalid configuration cacheTtlSeconds: expected at most 2: /);
    // A longer window is a choice the deployment makes (and documents): then a longer gateway TTL fits.
    expect(() => checkGatewayCacheSettings(readSettings(NAMES, { revocationWindowSeconds: 60, gatewayCacheTtlSeconds: 57 }, 'context'), 'context')).not.toThrow();
  });

  it('the gateway cache requires enforce mode: audit and off serve callers without a credential, whom API Gateway would refuse first', () => {
    for (const mode of ['audit', 'off']) {
      expect(() => checkGatewayCacheSettings(fromEnv({ GATEHOUSE_AUTH_MODE: mode, GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: '2' }))).toThrow(
        new RegExp(`GATEHOUSE_GATEWAY_CACHE_TTL_SECONDS: expected 0 while GATEHOUSE_AUTH_MODE is ${mode}`),
      );
      expect(() => checkGatewayCacheSettings(fromEnv({ GATEHOUSE_AUTH_MODE: mode }))).not.toThrow();
    }
  });
});

describe('gateway cache mode', () => {
  it('keys API Gateway’s cache on Authorization alone, with the configured TTL', () => {
    expect(authorizerCachingOf({ gatewayCacheTtlSeconds: 2 })).toEqual({ ttlSeconds: 2, identitySources: ['method.request.header.Authorization'] });
    expect(GATEWAY_CACHE_IDENTITY_SOURCE).toBe(`method.request.header.${GATEWAY_CACHE_HEADER}`);
  });

  it('every credential kind can travel in that one header: Authorization: Bearer carries API keys and tokens alike', () => {
    const key = generateApiKey('test').key;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    expect(extractCredential({ [GATEWAY_CACHE_HEADER]: `Bearer ${key}` })).toEqual({ kind: 'api_key', value: key });
    expect(extractCredential({ [GATEWAY_CACHE_HEADER]: `Bearer ${jwt}` })).toEqual({ kind: 'jwt', value: jwt });
  });

  it('off: the shared gateway responses unchanged; on: only the 401’s detail changes, to say where the credential goes', () => {
    expect(gatewayResponsesFor({ ttlSeconds: 0, identitySources: [] })).toBe(GATEWAY_RESPONSES);
    const on = gatewayResponsesFor(authorizerCachingOf({ gatewayCacheTtlSeconds: 2 }));
    expect(on.map((r) => r.type)).toEqual(GATEWAY_RESPONSES.map((r) => r.type));
    on.forEach((r, i) => {
      const shared = GATEWAY_RESPONSES[i]!;
      if (r.type === 'UNAUTHORIZED') expect(r).toEqual({ ...shared, detail: GATEWAY_CACHE_UNAUTHORIZED_DETAIL });
      else expect(r).toBe(shared);
    });
    expect(GATEWAY_CACHE_UNAUTHORIZED_DETAIL).toContain('Authorization: Bearer <API key or token>');
    expect(GATEWAY_CACHE_UNAUTHORIZED_DETAIL).toContain('X-API-Key alone is not accepted');
    // A gateway response body is a VTL template: no `$` or `#`; and no quotes to escape.
    expect(GATEWAY_CACHE_UNAUTHORIZED_DETAIL).not.toMatch(/[$#"'\\]/);
  });
});
