import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lambdas/core/errors.js';
import { MAX_BODY_BYTES_LIMIT, readSettings } from '../lambdas/core/settings.js';
import { readAuthorizerSettings } from '../lambdas/authorizer/wiring.js';
import { GATEHOUSE_API, SCOPES } from '../lambdas/routes.js';

describe('settings', () => {
  it('applies defaults: enforce, live keys, anonymous scopes all but audit:read and the credential scopes, cache TTL within 5 s', () => {
    const s = readAuthorizerSettings({});
    expect(s.authMode).toBe('enforce');
    expect(s.keyEnvironment).toBe('live');
    // Security review 11.2: the anonymous principal never holds keys:read or keys:write (was: all but audit:read).
    // The default is what the route table declares for anonymous callers.
    expect(s.anonymousScopes).toEqual(Object.entries(SCOPES).filter(([, d]) => 'anonymous' in d && d.anonymous).map(([name]) => name));
    expect(s.anonymousScopes?.some((x) => GATEHOUSE_API.scopes.isCredential(x) || x === 'audit:read')).toBe(false);
    expect(s.cacheTtlSeconds).toBeLessThanOrEqual(5);
    expect(s.oidcIssuers).toEqual([]);
    expect(s.cognito).toBeNull();
  });

  it('reads environment strings and context values with the same validation', () => {
    const fromEnv = readSettings(['authMode', 'cacheTtlSeconds', 'anonymousScopes'], {
      GATEHOUSE_AUTH_MODE: 'audit',
      GATEHOUSE_CACHE_TTL_SECONDS: '2',
      GATEHOUSE_ANONYMOUS_SCOPES: 'items:read, items:write',
    });
    const fromContext = readSettings(['authMode', 'cacheTtlSeconds', 'anonymousScopes'], {
      authMode: 'audit',
      cacheTtlSeconds: 2,
      anonymousScopes: ['items:read', 'items:write'],
    }, 'context');
    expect(fromEnv).toEqual(fromContext);
    expect(fromEnv).toEqual({ authMode: 'audit', cacheTtlSeconds: 2, anonymousScopes: ['items:read', 'items:write'] });
  });

  it.each([
    ['GATEHOUSE_AUTH_MODE', 'permissive', /GATEHOUSE_AUTH_MODE: expected enforce, audit or off/],
    ['GATEHOUSE_CACHE_TTL_SECONDS', '30', /GATEHOUSE_CACHE_TTL_SECONDS: expected an integer from 0 to 5/],
    ['GATEHOUSE_ANONYMOUS_SCOPES', 'items:read admin', /GATEHOUSE_ANONYMOUS_SCOPES: .*not declared: admin/],
    ['GATEHOUSE_ANONYMOUS_SCOPES', 'items:read keys:write', /GATEHOUSE_ANONYMOUS_SCOPES: .*never keys:read or keys:write/],
    ['GATEHOUSE_ANONYMOUS_SCOPES', 'items:read bad/scope', /GATEHOUSE_ANONYMOUS_SCOPES/],
    ['GATEHOUSE_OIDC_ISSUERS', JSON.stringify([{ issuer: 'https://a.example', jwksUri: 'https://a.example/jwks', audience: ['x'], tenantPrefix: `${'p'.repeat(200)}|` }]), /GATEHOUSE_OIDC_ISSUERS.*tenantPrefix/],
    ['GATEHOUSE_OIDC_ISSUERS', JSON.stringify([{ issuer: 'https://a.example', jwksUri: 'https://a.example/jwks', audience: ['x'], scopePrefix: '' }]), /GATEHOUSE_OIDC_ISSUERS.*scopePrefix/],
    ['GATEHOUSE_COGNITO', JSON.stringify({ userPoolId: 'eu-west-1_AbCdEf123', clientIds: ['x'], resourceServerId: 'has "quotes"' }), /GATEHOUSE_COGNITO.*resourceServerId/],
    ['GATEHOUSE_OIDC_ISSUERS', '{not json', /GATEHOUSE_OIDC_ISSUERS.*not valid JSON/],
    ['GATEHOUSE_OIDC_ISSUERS', JSON.stringify([{ issuer: 'https://a.example', jwksUri: 'http://a.example/jwks', audience: ['x'] }]), /jwksUri must be https/],
    ['GATEHOUSE_OIDC_ISSUERS', JSON.stringify([{ issuer: 'https://a.example', jwksUri: 'https://a.example/jwks' }]), /audience or clientIds/],
    ['GATEHOUSE_OIDC_ISSUERS', JSON.stringify([{ issuer: 'https://a.example', jwksUri: 'https://a.example/jwks', audience: ['x'], typo: 1 }]), /GATEHOUSE_OIDC_ISSUERS/],
    ['GATEHOUSE_COGNITO', JSON.stringify({ userPoolId: 'local_pool', clientIds: ['x'] }), /GATEHOUSE_COGNITO.*user pool id/],
  ])('refuses %s=%s with an error naming the variable and the expected form', (name, value, message) => {
    expect(() => readAuthorizerSettings({ [name]: value })).toThrow(ConfigError);
    expect(() => readAuthorizerSettings({ [name]: value })).toThrow(message);
  });

  it('accepts http JWKS only on loopback', () => {
    const s = readAuthorizerSettings({
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([{ issuer: 'http://127.0.0.1:9/', jwksUri: 'http://127.0.0.1:9/jwks', clientIds: ['c'] }]),
    });
    expect(s.oidcIssuers[0]).toMatchObject({ tokenUse: 'access', scopeClaim: 'scope', groupsClaim: 'cognito:groups', audience: null });
  });
});

describe('finding 11.12 (class): the body limit cannot promise what Lambda refuses', () => {
  it('GATEHOUSE_MAX_BODY_BYTES above 3 MiB is refused at load, naming the reason', () => {
    expect(() => readSettings(['maxBodyBytes'], { GATEHOUSE_MAX_BODY_BYTES: String(MAX_BODY_BYTES_LIMIT + 1) })).toThrow(/GATEHOUSE_MAX_BODY_BYTES.*6 MB invoke limit/);
    expect(readSettings(['maxBodyBytes'], { GATEHOUSE_MAX_BODY_BYTES: String(MAX_BODY_BYTES_LIMIT) }).maxBodyBytes).toBe(MAX_BODY_BYTES_LIMIT);
  });
});
