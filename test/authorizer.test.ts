/**
 * The authorizer end to end with real components: dynalite for the key store, a real oidc-provider process for
 * OIDC tokens, Cognito-shaped tokens signed by a test key and handed to CognitoJwtVerifier through its JWKS cache.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer, type AuthorizerDeps, type RefusalEvent } from '../lambdas/authorizer/authorizer.js';
import { generateApiKey } from '../lambdas/core/api-key.js';
import { DecisionCache } from '../lambdas/core/decision-cache.js';
import { BoundedJwksFetcher } from '../lambdas/core/jwks-fetcher.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { ApiKeyVerifier, type KeyLookup } from '../lambdas/core/key-verifier.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import type { Scope } from '../lambdas/core/scopes.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../lambdas/routes.js';
import { DEFAULT_CLAIMS, defaultTenantPrefix, TokenVerifier, type OidcIssuerConfig } from '../lambdas/core/token-verifier.js';
import { ROUTES } from '../lambdas/routes.js';
import { evaluatePolicy } from '../local/policy-evaluator.js';
import { captureLog, type CapturedLog } from './support/capture-log.js';
import { startDynalite, type TestDynamo } from './support/dynalite.js';
import { arnFor, authorizerEvent } from './support/events.js';
import { spawnLocalOidc } from './support/oidc-process.js';
import { cognitoAccessClaims, makeSigningKey, signHs256, signRs256, unsigned, withPayload } from './support/tokens.js';

const POOL_ID = 'us-east-1_TestPool1';
const POOL_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`;
const POOL_CLIENT = 'cognitoappclient1';
const PEPPER = 'test-pepper-'.padEnd(48, 'x');

let dynamo: TestDynamo;
let oidc: Awaited<ReturnType<typeof spawnLocalOidc>>;
const cognitoKey = makeSigningKey('cognito-kid-1');
const foreignKey = makeSigningKey('cognito-kid-1'); // same kid, other key: a token from another pool

interface Harness {
  decide: ReturnType<typeof createAuthorizer>;
  log: CapturedLog;
  refusals: RefusalEvent[];
  keyUses: string[];
  storeReads: { count: number };
  clock: { t: number };
}

function oidcIssuerConfig(): OidcIssuerConfig {
  return {
    issuer: oidc.config.issuer,
    jwksUri: oidc.config.jwksUri,
    audience: null,
    clientIds: [oidc.config.machineClient.clientId, oidc.config.loginClient.clientId],
    tokenUse: 'access',
    ...DEFAULT_CLAIMS,
    // The provider's tokens carry `gatehouse/<scope>`; only the configured prefix counts (security review 11.11).
    scopePrefix: `${oidc.config.resourceServerId}/`,
  };
}

function harness(overrides: Partial<AuthorizerDeps> & { store?: KeyLookup; issuers?: OidcIssuerConfig[] } = {}): Harness {
  const log = captureLog();
  const refusals: RefusalEvent[] = [];
  const keyUses: string[] = [];
  const storeReads = { count: 0 };
  const clock = { t: Date.now() };
  const realStore = overrides.store ?? new DynamoKeyStore(dynamo.doc, dynamo.tableName);
  const countingStore: KeyLookup = {
    get: (id) => {
      storeReads.count++;
      return realStore.get(id);
    },
  };
  const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes,
    cognito: { userPoolId: POOL_ID, clientIds: [POOL_CLIENT], tokenUse: 'access' },
    issuers: overrides.issuers ?? [oidcIssuerConfig()],
    fetcher: new BoundedJwksFetcher(500),
  });
  // CognitoJwtVerifier's JWKS, cached up front as cacheJwks() does (no network to Cognito here).
  tokens.jwksCache.addJwks(`${POOL_ISSUER}/.well-known/jwks.json`, { keys: [cognitoKey.jwk] });
  const decide = createAuthorizer({ api: GATEHOUSE_API,
    mode: 'enforce',
    anonymousScopes: ALL_SCOPES.filter((s) => s !== 'audit:read'),
    keys: new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store: countingStore, peppers: peppers(), environment: 'test' }),
    tokens,
    cache: new DecisionCache({ maxEntries: 100, positiveTtlMs: 3000, negativeTtlMs: 1000, now: () => clock.t }),
    log,
    onRefusal: (e) => refusals.push(e),
    onKeyUse: (p) => keyUses.push(p.keyId!),
    ...overrides,
  });
  return { decide, log, refusals, keyUses, storeReads, clock };
}

const peppers = () => new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 3600 });

async function newKey(scopes: readonly Scope[], extra: { tenant?: string; expiresAt?: string } = {}) {
  const store = new DynamoKeyStore(dynamo.doc, dynamo.tableName);
  return issueKey(
    { store, peppers: peppers(), environment: 'test' },
    { tenant: extra.tenant ?? 'tenant-a', name: 'test key', scopes, createdBy: 'test', ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {}) },
  );
}

async function expectUnauthorized(promise: Promise<unknown>) {
  await expect(promise).rejects.toThrow(/^Unauthorized$/);
}

/** Which routes a policy allows, evaluated IAM-style against every route's methodArn. */
function allowedRoutes(result: APIGatewayAuthorizerResult): string[] {
  return ROUTES.filter((r) => r.auth === 'token')
    .filter((r) => evaluatePolicy(result.policyDocument, arnFor(r.method, r.path.replace(/\{[^}]+\}/g, 'x1'))) === 'allow')
    .map((r) => `${r.method} ${r.path}`);
}

function expectedRoutes(scopes: readonly Scope[]): string[] {
  return ROUTES.filter((r) => r.auth === 'token' && (r.scope === undefined || scopes.includes(r.scope))).map((r) => `${r.method} ${r.path}`);
}

async function clientCredentialsToken(scope?: string): Promise<string> {
  const { clientId, clientSecret, scopes } = oidc.config.machineClient;
  const res = await fetch(oidc.config.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scope ?? scopes.join(' ') }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

beforeAll(async () => {
  [dynamo, oidc] = await Promise.all([startDynalite(), spawnLocalOidc()]);
});

afterAll(async () => {
  await Promise.all([dynamo?.stop(), oidc?.stop()]);
});

describe('API keys', () => {
  it('allows a valid key for exactly the routes its scopes permit, with scalar context', async () => {
    const { key, record } = await newKey(['keys:read', 'items:read']);
    const h = harness();
    const result = await h.decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    expect(result.principalId).toBe(`key:${record.id}`);
    expect(result.context).toEqual({
      principalId: `key:${record.id}`,
      authMethod: 'api_key',
      tenant: 'tenant-a',
      scopes: 'keys:read items:read',
      keyId: record.id,
      admin: 'false',
      plan: '',
    });
    for (const v of Object.values(result.context ?? {})) expect(typeof v).toBe('string');
    expect(allowedRoutes(result)).toEqual(expectedRoutes(['keys:read', 'items:read']));
    expect(h.keyUses).toEqual([record.id]);
  });

  it('the same key works as Authorization: Bearer', async () => {
    const { key } = await newKey(['items:read']);
    const result = await harness().decide(authorizerEvent({ headers: { authorization: `Bearer ${key}` } }));
    expect(result.context?.authMethod).toBe('api_key');
  });

  it('a cache hit costs no store read; a miss exactly one', async () => {
    const { key } = await newKey(['items:read']);
    const h = harness();
    await h.decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    expect(h.storeReads.count).toBe(1);
    await h.decide(authorizerEvent({ headers: { 'X-API-Key': key }, method: 'GET', path: '/v1/items' }));
    expect(h.storeReads.count).toBe(1);
  });

  it('refuses expired, revoked, unknown and forged keys with the same 401, each with its audit reason', async () => {
    const expired = await newKey(['items:read'], { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const revoked = await newKey(['items:read']);
    await new DynamoKeyStore(dynamo.doc, dynamo.tableName).revoke(revoked.record.id, 'tenant-a', new Date().toISOString());
    const unknown = generateApiKey('test');
    // A revoked key's public id with a freshly generated secret (and a valid checksum).
    const forged = generateApiKey('test', revoked.record.id);
    const h = harness();
    const cases: [string, string][] = [
      [expired.key, 'expired'],
      [revoked.key, 'revoked'],
      [unknown.key, 'unknown'],
      [forged.key, 'secret_mismatch'],
    ];
    const errors: string[] = [];
    for (const [key] of cases) {
      const outcome = await h.decide(authorizerEvent({ headers: { 'X-API-Key': key } })).then(() => 'allowed', (e: Error) => `Error: ${e.message}`);
      errors.push(outcome);
    }
    expect(new Set(errors)).toEqual(new Set(['Error: Unauthorized']));
    expect(h.refusals.map((r) => r.reason)).toEqual(cases.map(([, reason]) => reason));
    expect(h.refusals.map((r) => r.keyId)).toEqual([expired.record.id, revoked.record.id, unknown.id, revoked.record.id]);
    expect(h.refusals.every((r) => r.outcome === 'denied' && r.sourceIp === '203.0.113.9')).toBe(true);
  });

  it('refuses a bad checksum and the other environment without any store read', async () => {
    const { key } = await newKey(['items:read']);
    const h = harness();
    const flipped = key.slice(0, 30) + (key[30] === 'a' ? 'b' : 'a') + key.slice(31);
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { 'X-API-Key': flipped } })));
    const live = generateApiKey('live').key;
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { 'X-API-Key': live } })));
    expect(h.storeReads.count).toBe(0);
    expect(h.refusals.map((r) => r.reason)).toEqual(['bad_checksum', 'wrong_environment']);
  });

  it('refuses both headers differing, duplicates, other schemes, oversize and a missing credential', async () => {
    const a = await newKey(['items:read']);
    const b = await newKey(['items:read']);
    const h = harness();
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${a.key}`, 'X-API-Key': b.key } })));
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { 'X-API-Key': a.key }, multiValueHeaders: { 'X-API-Key': [a.key, b.key] } })));
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } })));
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { 'X-API-Key': 'gth_' + 'x'.repeat(9000) } })));
    await expectUnauthorized(h.decide(authorizerEvent({ headers: {} })));
    expect(h.storeReads.count).toBe(0);
    // A missing credential is not an audit finding in enforce mode; the others are.
    expect(h.refusals.map((r) => r.reason)).toEqual(['conflicting_credentials', 'duplicate_header', 'unsupported_scheme', 'oversize']);
  });

  it('a revoked key is refused once the positive cache entry ages out (≤ the configured TTL)', async () => {
    const { key, record } = await newKey(['items:read']);
    const h = harness();
    await h.decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    await new DynamoKeyStore(dynamo.doc, dynamo.tableName).revoke(record.id, 'tenant-a', new Date().toISOString());
    h.clock.t += 2_999;
    await expect(h.decide(authorizerEvent({ headers: { 'X-API-Key': key } }))).resolves.toBeDefined();
    h.clock.t += 2;
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { 'X-API-Key': key } })));
  });

  it('never logs or audits the credential', async () => {
    const { key } = await newKey(['items:read']);
    const h = harness();
    await h.decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    const forged = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    await h.decide(authorizerEvent({ headers: { 'X-API-Key': forged } })).catch(() => undefined);
    const secretPart = key.slice(22, 60);
    expect(h.log.text()).not.toContain(secretPart);
    expect(JSON.stringify(h.refusals)).not.toContain(secretPart);
  });
});

describe('Cognito user-pool tokens', () => {
  const token = (claims: Record<string, unknown>, key = cognitoKey, kid = cognitoKey.kid) =>
    signRs256({ alg: 'RS256', kid, typ: 'JWT' }, claims, key.privateKey);

  it('maps group admins to every scope, admin flag set, tenant = sub', async () => {
    const claims = cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT, sub: 'user-1', groups: ['admins'] });
    const result = await harness().decide(authorizerEvent({ headers: { Authorization: `Bearer ${token(claims)}` } }));
    expect(result.context).toMatchObject({ principalId: 'user-1', authMethod: 'jwt', tenant: 'user-1', admin: 'true', scopes: ALL_SCOPES.join(' ') });
    expect(allowedRoutes(result)).toEqual(expectedRoutes(ALL_SCOPES));
  });

  it('maps group users to all but audit:read; custom:tenant wins over sub', async () => {
    const claims = cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT, sub: 'user-2', groups: ['users'], extra: { 'custom:tenant': 'acme' } });
    const result = await harness().decide(authorizerEvent({ headers: { Authorization: `Bearer ${token(claims)}` } }));
    expect(result.context).toMatchObject({ tenant: 'acme', admin: 'false' });
    const scopes = ALL_SCOPES.filter((s) => s !== 'audit:read');
    expect(result.context?.scopes).toBe(scopes.join(' '));
    expect(allowedRoutes(result)).toEqual(expectedRoutes(scopes));
    expect(allowedRoutes(result)).not.toContain('GET /v1/audit');
  });

  it('maps resource-server scopes of a machine token; an unscoped route stays allowed', async () => {
    // Security review 11.11: only the pool's resource server (`gatehouse/`) counts; `other/keys:write` is another
    // API's scope (this test used to expect it as keys:write).
    const claims = cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT, sub: POOL_CLIENT, scope: 'gatehouse/items:read other/keys:write' });
    delete claims.username;
    const result = await harness().decide(authorizerEvent({ headers: { Authorization: `Bearer ${token(claims)}` } }));
    expect(result.context).toMatchObject({ tenant: POOL_CLIENT, scopes: 'items:read' });
  });

  it.each([
    ['expired', () => token(cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT, ttlSeconds: -60 })), 'expired'],
    ['wrong client', () => token(cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: 'otherclient' })), 'invalid_token'],
    ['id token where access is required', () => token({ ...cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT }), token_use: 'id', aud: POOL_CLIENT }), 'invalid_token'],
    ['unknown issuer', () => token(cognitoAccessClaims({ issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other', clientId: POOL_CLIENT })), 'unknown_issuer'],
    ['another pool\'s key with our kid', () => token(cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT }), foreignKey), 'invalid_token'],
    ['alg none', () => unsigned(cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT })) + 'AAAA', 'invalid_token'],
    ['HS256 signed with the public key', () => signHs256({ alg: 'HS256', kid: cognitoKey.kid }, cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT }), cognitoKey.publicPem), 'invalid_token'],
    ['tampered payload (groups edited)', () => {
      const claims = cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT, groups: ['users'] });
      return withPayload(token(claims), { ...claims, 'cognito:groups': ['admins'] });
    }, 'invalid_token'],
    ['no subject', () => token({ ...cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT }), sub: undefined }), 'no_subject'],
  ])('refuses %s', async (_name, make, reason) => {
    const h = harness();
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${make()}` } })));
    expect(h.refusals).toMatchObject([{ reason, credentialKind: 'jwt' }]);
  });

  it('a token is never cached past its own expiry', async () => {
    const claims = cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT, groups: ['users'], ttlSeconds: 2 });
    const h = harness();
    const jwt = token(claims);
    await h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } }));
    h.clock.t = (claims.exp as number) * 1000 + 1; // cache would otherwise keep it 3 s
    const now = Date.now;
    Date.now = () => h.clock.t; // aws-jwt-verify reads the wall clock for exp
    try {
      await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } })));
    } finally {
      Date.now = now;
    }
  });
});

describe('OIDC issuer (a real oidc-provider process)', () => {
  it('accepts a client-credentials token and maps its resource-server scopes', async () => {
    const jwt = await clientCredentialsToken(`${oidc.config.resourceServerId}/items:read ${oidc.config.resourceServerId}/usage:read`);
    const result = await harness().decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } }));
    // Beside the Cognito pool this issuer is one of two token sources, so its tenants are namespaced by issuer.
    const tenant = defaultTenantPrefix(oidc.config.issuer) + oidc.config.machineClient.clientId;
    expect(result.context).toMatchObject({ authMethod: 'jwt', tenant, scopes: 'items:read usage:read' });
    expect(allowedRoutes(result)).toEqual(expectedRoutes(['items:read', 'usage:read']));
  });

  it('as the only token source, its tenants are bare (CONTRACT §2: a machine\'s tenant is its client id)', async () => {
    const jwt = await clientCredentialsToken();
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [oidcIssuerConfig()], fetcher: new BoundedJwksFetcher(500) });
    const verified = await tokens.verify(jwt);
    expect(verified.ok && verified.principal.tenant).toBe(oidc.config.machineClient.clientId);
    const prefixed = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [{ ...oidcIssuerConfig(), tenantPrefix: 'corp:' }], fetcher: new BoundedJwksFetcher(500) });
    const named = await prefixed.verify(jwt);
    expect(named.ok && named.principal.tenant).toBe(`corp:${oidc.config.machineClient.clientId}`);
  });

  it('refuses a token for a client that is not configured, and a token whose scopes were edited', async () => {
    const jwt = await clientCredentialsToken();
    const h = harness({ issuers: [{ ...oidcIssuerConfig(), clientIds: ['someone-else'] }] });
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } })));
    const [, payload] = jwt.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    await expectUnauthorized(harness().decide(authorizerEvent({ headers: { Authorization: `Bearer ${withPayload(jwt, { ...claims, scope: 'gatehouse/audit:read' })}` } })));
  });

  it('refuses a token whose kid is not in the issuer\'s JWKS (fetched, then refused)', async () => {
    const stranger = makeSigningKey();
    const jwt = signRs256(
      { alg: 'RS256', kid: stranger.kid },
      { iss: oidc.config.issuer, sub: 'x', client_id: oidc.config.machineClient.clientId, token_use: 'access', exp: Math.floor(Date.now() / 1000) + 60 },
      stranger.privateKey,
    );
    const h = harness();
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } })));
    expect(h.refusals[0]?.reason).toBe('invalid_token');
  });

  it('an unknown kid for the Cognito pool, whose JWKS cannot be fetched here, denies without a 401', async () => {
    const jwt = signRs256({ alg: 'RS256', kid: 'no-such-kid' }, cognitoAccessClaims({ issuer: POOL_ISSUER, clientId: POOL_CLIENT }), cognitoKey.privateKey);
    const outcome = await harness().decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } })).then(() => 'allowed', (e: Error) => e.message);
    expect(outcome).not.toBe('allowed');
    expect(outcome).not.toBe('Unauthorized');
  });

  it('refuses a wrong audience when an audience is required', async () => {
    const jwt = await clientCredentialsToken();
    const h = harness({ issuers: [{ ...oidcIssuerConfig(), audience: ['https://not-this-api'] }] });
    await expectUnauthorized(h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } })));
    expect(h.refusals[0]?.reason).toBe('invalid_token');
  });
});

describe('fail closed', () => {
  it('denies (never Allow, never 401) while the key store is down, and recovers when it is back', async () => {
    const local = await startDynalite('gatehouse-fault');
    const store = new DynamoKeyStore(local.doc, local.tableName);
    const { key } = await issueKey({ store, peppers: peppers(), environment: 'test' }, { tenant: 't', name: 'n', scopes: ['items:read'], createdBy: 't' });
    const h = harness({ store });
    await local.stop();
    const outcome = await h.decide(authorizerEvent({ headers: { 'X-API-Key': key } })).then(
      () => 'allowed',
      (e: Error) => e.message,
    );
    expect(outcome).not.toBe('allowed');
    expect(outcome).not.toBe('Unauthorized');
    expect(h.refusals).toHaveLength(0);
  });

  it('denies while the JWKS endpoint is down and while it hangs beyond its timeout', async () => {
    const hanging: Server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const port = (hanging.address() as AddressInfo).port;
    const signer = makeSigningKey();
    try {
      for (const jwksUri of ['http://127.0.0.1:9/jwks', `http://127.0.0.1:${port}/jwks`]) {
        const issuer = 'http://127.0.0.1:9/issuer';
        const h = harness({ issuers: [{ ...oidcIssuerConfig(), issuer, jwksUri, clientIds: ['c1'] }] });
        const jwt = signRs256({ alg: 'RS256', kid: signer.kid }, { iss: issuer, sub: 'c1', client_id: 'c1', token_use: 'access', exp: Math.floor(Date.now() / 1000) + 60 }, signer.privateKey);
        const started = Date.now();
        const outcome = await h.decide(authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } })).then(
          () => 'allowed',
          (e: Error) => e.message,
        );
        expect(outcome).not.toBe('allowed');
        expect(outcome).not.toBe('Unauthorized');
        expect(Date.now() - started).toBeLessThan(3000);
      }
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});

describe('modes (CONTRACT §6)', () => {
  it('audit: a valid credential is used as in enforce', async () => {
    const { key, record } = await newKey(['items:read']);
    const result = await harness({ mode: 'audit' }).decide(authorizerEvent({ headers: { 'X-API-Key': key } }));
    expect(result.context).toMatchObject({ tenant: 'tenant-a', keyId: record.id });
  });

  it('audit: a missing or refused credential is recorded and proceeds as anonymous with the anonymous scopes', async () => {
    const h = harness({ mode: 'audit' });
    const missing = await h.decide(authorizerEvent({ headers: {} }));
    const refused = await h.decide(authorizerEvent({ headers: { 'X-API-Key': generateApiKey('test').key } }));
    for (const result of [missing, refused]) {
      expect(result.context).toMatchObject({ principalId: 'anonymous', tenant: 'anonymous', authMethod: 'anonymous' });
      // The harness hands it every scope but audit:read; the credential scopes are never the anonymous
      // principal's (security review 11.2), so they are dropped.
      expect(allowedRoutes(result)).toEqual(expectedRoutes(ALL_SCOPES.filter((s) => s !== 'audit:read' && s !== 'keys:read' && s !== 'keys:write')));
    }
    expect(h.refusals.map((r) => [r.reason, r.outcome])).toEqual([
      ['missing', 'allowed_anonymous'],
      ['unknown', 'allowed_anonymous'],
    ]);
  });

  it('audit: a store failure still denies (an error is not a refusal)', async () => {
    const h = harness({ mode: 'audit', store: { get: () => Promise.reject(new Error('store down')) } });
    await expect(h.decide(authorizerEvent({ headers: { 'X-API-Key': generateApiKey('test').key } }))).rejects.toThrow('store down');
  });

  it('off: every caller is anonymous, no credential is looked at', async () => {
    const h = harness({ mode: 'off' });
    const result = await h.decide(authorizerEvent({ headers: { 'X-API-Key': 'garbage' } }));
    expect(result.context).toMatchObject({ principalId: 'anonymous', authMethod: 'anonymous' });
    expect(h.storeReads.count).toBe(0);
    expect(h.refusals).toHaveLength(0);
  });
});

describe('cache-safe policy', () => {
  beforeEach(() => undefined);
  it('a policy cached from one route answers every other route correctly', async () => {
    const { key } = await newKey(['items:read', 'keys:write']);
    const result = await harness().decide(authorizerEvent({ headers: { 'X-API-Key': key }, method: 'GET', path: '/v1/items/abc' }));
    const verdict = (m: string, p: string) => evaluatePolicy(result.policyDocument, arnFor(m, p));
    expect(verdict('GET', '/v1/items/other-id')).toBe('allow');
    expect(verdict('GET', '/v1/whoami')).toBe('allow');
    expect(verdict('POST', '/v1/keys/k1/rotate')).toBe('allow');
    expect(verdict('PUT', '/v1/items/abc')).toBe('deny');
    expect(verdict('GET', '/v1/keys')).toBe('deny');
    expect(verdict('GET', '/v1/audit')).toBe('deny');
    expect(verdict('POST', '/v1/verify')).toBe('deny');
  });
});
