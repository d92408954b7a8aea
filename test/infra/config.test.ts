/**
 * Configuration: bad context values fail synthesis with an error naming the key and the expected form; configured
 * values reach the templates (CORS origins, OIDC issuers, rate limits, MFA, callback URLs).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.js';
import { GATEWAY_RESPONSES } from '../../lambdas/core/gateway-responses.js';
import { readSettings } from '../../lambdas/core/settings.js';
import { readAuthorizerSettings } from '../../lambdas/authorizer/wiring.js';
import { ROUTES } from '../../lambdas/routes.js';
import { isCognitoRedirectUrl, readConfig } from '../../infra/config.js';
import { settingsEnvironment } from '../../infra/function-env.js';
import { buildDefault, CDK_JSON_CONTEXT, createApp, resourcesOf, synthGatehouse, type SynthResult } from './synth.js';

process.env.CDK_VALIDATION = 'false';

const build = (overrides: Record<string, unknown>) => () => buildDefault(createApp(overrides));

describe('bad context fails synthesis, naming the key and the expected form', () => {
  it.each<[string, unknown, RegExp]>([
    ['authMode', 'open', /Invalid configuration authMode: expected enforce, audit or off/],
    ['keyEnvironment', 'prod', /Invalid configuration keyEnvironment: expected live or test/],
    ['rateLimitPerIp', 5, /Invalid configuration rateLimitPerIp: expected an integer ≥ 10/],
    ['rateLimitPerCredential', 'lots', /Invalid configuration rateLimitPerCredential/],
    ['rateLimitWindowSeconds', 30, /Invalid configuration rateLimitWindowSeconds: expected 60, 120, 300 or 600/],
    ['throttleBurstLimit', 0, /Invalid configuration throttleBurstLimit: expected an integer from 1 to 5000/],
    ['cacheTtlSeconds', 30, /Invalid configuration cacheTtlSeconds: expected an integer from 0 to 5/],
    ['corsOrigins', ['*'], /Invalid configuration corsOrigins: expected origins such as https:\/\/app.example.com/],
    ['oidcIssuers', [{ issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/jwks' }], /Invalid configuration oidcIssuers: .*audience or clientIds/],
    ['oidcIssuers', [{ issuer: 'http://127.0.0.1:9', jwksUri: 'http://127.0.0.1:9/jwks', audience: ['a'] }], /Invalid configuration oidcIssuers: expected https JWKS URIs in a deployment/],
    ['callbackUrls', ['http://127.0.0.1:8976/callback'], /Invalid configuration callbackUrls: .*Cognito allows no other http, not even 127\.0\.0\.1/],
    ['callbackUrls', ['https://app.example.com/cb#frag'], /Invalid configuration callbackUrls/],
    ['logoutUrls', [], /Invalid configuration logoutUrls/],
    ['domainPrefix', 'My_Login', /Invalid configuration domainPrefix: expected a Cognito domain prefix/],
    ['domainPrefix', 'gatehouse-aws', /Invalid configuration domainPrefix: .*must not contain aws, amazon or cognito/],
    ['mfa', 'sometimes', /Invalid configuration mfa: expected off, optional or required/],
    ['logRetentionDays', 42, /Invalid configuration logRetentionDays: expected one of the retention periods/],
    ['stackPrefix', 'gate house', /Invalid configuration stackPrefix/],
    ['rateLimitPerIP', 100, /Invalid configuration rateLimitPerIP: expected no such key; known keys are .*rateLimitPerIp/],
    ['tableName', 'mine', /Invalid configuration tableName: expected no value: it cannot be configured/],
    ['localPepper', 'x'.repeat(40), /Invalid configuration localPepper: expected no value/],
    ['cognito', { userPoolId: 'eu-west-1_abc', clientIds: ['x'] }, /Invalid configuration cognito: expected no value/],
    ['jwksSource', 'fetch', /Invalid configuration jwksSource: expected no value: .*JWKS from the table/],
    // Checked against the deployment's scope catalog at synth (issue 12: scopes are the catalog's, not a fixed list).
    ['anonymousScopes', ['keys:read'], /Invalid configuration anonymousScopes: expected no credential scope .*keys:read/],
    ['anonymousScopes', ['reports:read'], /Invalid configuration anonymousScopes: expected declared scopes .*not declared: reports:read/],
  ])('%s = %j', (key, value, message) => {
    expect(build({ [key]: value })).toThrow(ConfigError);
    expect(build({ [key]: value })).toThrow(message);
  });

  it('reads -c style JSON strings like cdk.json values', () => {
    const config = readConfig({ ...CDK_JSON_CONTEXT, callbackUrls: '["https://app.example.com/callback"]', rateLimitPerIp: '1000' });
    expect(config.infra.callbackUrls).toEqual(['https://app.example.com/callback']);
    expect(config.settings.rateLimitPerIp).toBe(1000);
  });
});

describe('Cognito redirect URLs', () => {
  it.each([
    ['https://app.example.com/callback', true],
    ['http://localhost:8976/callback', true],
    ['http://localhost/callback', true],
    ['com.example.gatehouse:/callback', true],
    ['http://127.0.0.1:8976/callback', false],
    ['http://[::1]:8976/callback', false],
    ['http://app.example.com/callback', false],
    ['https://app.example.com/callback#x', false],
    ['javascript:alert(1)', false],
    ['myapp', false],
  ])('%s → %s', (url, ok) => {
    expect(isCognitoRedirectUrl(url)).toBe(ok);
  });
});

describe('environment values read back as the same settings', () => {
  it('round-trips every context setting through its environment form', () => {
    const config = readConfig({
      ...CDK_JSON_CONTEXT,
      authMode: 'audit',
      anonymousScopes: ['items:read'],
      corsOrigins: ['https://a.example.com', 'https://b.example.com'],
      oidcIssuers: [{ issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/jwks', clientIds: ['c1'], tokenUse: 'any' }],
    });
    const names = ['authMode', 'anonymousScopes', 'corsOrigins', 'oidcIssuers', 'cacheTtlSeconds', 'maxBodyBytes'] as const;
    const env = settingsEnvironment(names, config);
    const back = readSettings(names, env);
    for (const name of names) expect(back[name]).toEqual(config.settings[name]);
    expect(env.GATEHOUSE_ANONYMOUS_SCOPES).toBe('items:read');
    expect(JSON.parse(env.GATEHOUSE_OIDC_ISSUERS!)).toEqual([expect.objectContaining({ tokenUse: 'any' })]);
  });

  it('an empty anonymous scope list is written `none` and read back as no scopes (an empty variable would mean the default)', () => {
    const env = settingsEnvironment(['anonymousScopes'], readConfig({ ...CDK_JSON_CONTEXT, anonymousScopes: [] }));
    expect(env.GATEHOUSE_ANONYMOUS_SCOPES).toBe('none');
    expect(readAuthorizerSettings(env).anonymousScopes).toEqual([]);
    expect(readAuthorizerSettings({}).anonymousScopes.length).toBeGreaterThan(0);
  });
});

describe('configured values reach the templates', () => {
  let synth: SynthResult;
  let api: Template;
  const origins = ['https://app.example.com', 'https://admin.example.com'];
  const issuer = { issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/.well-known/jwks.json', audience: ['gatehouse'] };

  beforeAll(() => {
    synth = synthGatehouse({
      corsOrigins: origins,
      oidcIssuers: [issuer],
      rateLimitPerIp: 1000,
      rateLimitPerCredential: 50,
      rateLimitWindowSeconds: 300,
      throttleRateLimit: 20,
      throttleBurstLimit: 40,
      mfa: 'required',
      callbackUrls: ['https://app.example.com/callback', 'http://localhost:8976/callback'],
      domainPrefix: 'acme-gatehouse',
      stackPrefix: 'Acme',
    });
    api = synth.templates.api;
  });

  it('names the stacks with the prefix', () => {
    const { network, data, identity, waf, api: apiStack } = synth.stacks;
    expect([network, data, identity, waf, apiStack].map((s) => s.stackName).sort()).toEqual(
      ['AcmeApi', 'AcmeData', 'AcmeIdentity', 'AcmeNetwork', 'AcmeWaf'],
    );
  });

  it('adds a CORS preflight (204, no authorizer) to every route path, allowing only the route methods', () => {
    const options = Object.values(resourcesOf(api, 'AWS::ApiGateway::Method')).filter((m) => m.Properties?.HttpMethod === 'OPTIONS');
    expect(options).toHaveLength(new Set(ROUTES.map((r) => r.path)).size);
    for (const m of options) {
      expect(m.Properties?.AuthorizationType).toBe('NONE');
      expect(JSON.stringify(m.Properties?.MethodResponses)).toContain('"StatusCode":"204"');
      const integration = JSON.stringify(m.Properties?.Integration);
      for (const origin of origins) expect(integration).toContain(origin);
      expect(integration).not.toContain("'*'");
    }
  });

  it('gives the gateway responses no CORS headers when several origins are configured (a static response cannot choose one), and no-store', () => {
    for (const r of Object.values(resourcesOf(api, 'AWS::ApiGateway::GatewayResponse'))) {
      const headers = r.Properties?.ResponseParameters as Record<string, string>;
      expect(Object.keys(headers).filter((h) => h.includes('Access-Control'))).toEqual([]);
      expect(Object.values(headers).some((v) => v.startsWith('method.request'))).toBe(false);
      expect(headers['gatewayresponse.header.Cache-Control']).toBe("'no-store'");
    }
    expect(Object.keys(resourcesOf(api, 'AWS::ApiGateway::GatewayResponse'))).toHaveLength(GATEWAY_RESPONSES.length);
  });

  it('passes origins and issuers to the functions, and mirrors the issuer JWKS', () => {
    const authorizer = resourcesOf(api, 'AWS::Lambda::Function');
    const envs = Object.values(authorizer).map((f) => (f.Properties?.Environment as { Variables: Record<string, unknown> }).Variables);
    expect(envs.some((e) => e.GATEHOUSE_OIDC_ISSUERS === JSON.stringify([issuer]))).toBe(true);
    expect(envs.filter((e) => e.GATEHOUSE_CORS_ORIGINS === origins.join(' ')).length).toBe(new Set(ROUTES.map((r) => r.handler)).size);
    const jwks = Object.values(resourcesOf(synth.templates.identity, 'Custom::GatehouseJwksMirror'))[0]!;
    expect(JSON.stringify(jwks.Properties?.OidcIssuers)).toContain(issuer.jwksUri);
  });

  it('applies rate limits, the throttle, MFA, callback URLs and the domain prefix', () => {
    const rules = JSON.stringify(Object.values(resourcesOf(synth.templates.waf, 'AWS::WAFv2::WebACL'))[0]!.Properties?.Rules);
    expect(rules).toContain('"Limit":1000');
    expect(rules).toContain('"Limit":50');
    expect(rules).toContain('"EvaluationWindowSec":300');
    api.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [{ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 }] });
    synth.templates.identity.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
    synth.templates.identity.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: ['https://app.example.com/callback', 'http://localhost:8976/callback'],
    });
    synth.templates.identity.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-gatehouse' });
  });
});
