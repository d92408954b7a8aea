/**
 * Security review, issue 11 — the authorizer and identity side (findings 2, 4, 8, 11, 13, 15). Real components
 * throughout: dynalite for keys, audit events and mirrored JWKS; JWKS served over loopback HTTP; the real audit
 * store under the refusal recorder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createItemsHandler } from '../../lambdas/api/items/operations.js';
import { createAuthorizer, type RefusalEvent } from '../../lambdas/authorizer/authorizer.js';
import { readAuthorizerSettings } from '../../lambdas/authorizer/wiring.js';
import { generateApiKey } from '../../lambdas/core/api-key.js';
import { SYSTEM_TENANT, type AuditEvent, type AuditEventInput } from '../../lambdas/core/audit.js';
import { AuditStore } from '../../lambdas/core/audit-store.js';
import { ensureAdminKey } from '../../lambdas/core/bootstrap.js';
import { DecisionCache } from '../../lambdas/core/decision-cache.js';
import { ConfigError } from '../../lambdas/core/errors.js';
import * as jwksFetcher from '../../lambdas/core/jwks-fetcher.js';
import { StoreJwksFetcher, writeJwks } from '../../lambdas/core/jwks-store.js';
import { hashApiKey, hashesEqual } from '../../lambdas/core/key-hash.js';
import { issueKey } from '../../lambdas/core/key-issuer.js';
import type { KeyRecord } from '../../lambdas/core/key-record.js';
import { DynamoKeyStore } from '../../lambdas/core/key-store.js';
import { ApiKeyVerifier, type KeyLookup } from '../../lambdas/core/key-verifier.js';
import { principalFromContext } from '../../lambdas/core/principal.js';
import { RefusalRecorder, type CountableAuditSink } from '../../lambdas/core/refusal-recorder.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../../lambdas/routes.js';
import { readSettings, resolveAnonymousScopes } from '../../lambdas/core/settings.js';
import { DEFAULT_CLAIMS, DEFAULT_RESOURCE_SERVER_ID, TokenVerifier, type OidcIssuerConfig } from '../../lambdas/core/token-verifier.js';
import { readConfig } from '../../infra/config.js';
import { RESOURCE_SERVER_ID } from '../../infra/identity-stack.js';
import { apiEvent, lambdaContext } from '../support/api-events.js';
import { captureLog } from '../support/capture-log.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { authorizerEvent } from '../support/events.js';
import { captureOutput, testServices } from '../support/services.js';
import { nowSeconds, rsaKey, signWith, type LabKey } from './support/jose.js';
import { startJwksServer, type JwksServer } from './support/jwks-server.js';
import { bearer, peppers, settle, type Outcome } from './support/lab.js';

let dynamo: TestDynamo;
const servers: JwksServer[] = [];

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-round2');
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), ...servers.map((s) => s.close())]);
});

const keyStore = () => new DynamoKeyStore(dynamo.doc, dynamo.tableName);

/** An authorizer in enforce mode over the given verifiers, recording every refusal. */
function authorizerWith(deps: { tokens?: TokenVerifier; store?: KeyLookup }) {
  const refusals: RefusalEvent[] = [];
  const decide = createAuthorizer({ api: GATEHOUSE_API,
    mode: 'enforce',
    anonymousScopes: [],
    keys: new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store: deps.store ?? keyStore(), peppers: peppers(), environment: 'test' }),
    tokens: deps.tokens ?? new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [], fetcher: new jwksFetcher.BoundedJwksFetcher(500) }),
    cache: new DecisionCache({ maxEntries: 1000, positiveTtlMs: 3000, negativeTtlMs: 1000 }),
    log: captureLog(),
    onRefusal: (e) => refusals.push(e),
  });
  return { decide: (headers: Record<string, string>): Promise<Outcome> => settle(decide(authorizerEvent({ headers })), refusals), refusals };
}

function issuerConfig(server: JwksServer, extra: Partial<OidcIssuerConfig> = {}): OidcIssuerConfig {
  return { issuer: `${server.origin}/issuer`, jwksUri: server.jwksUri, audience: null, clientIds: ['m2m-client'], tokenUse: 'access', ...DEFAULT_CLAIMS, ...extra };
}

const machineClaims = (issuer: string, extra: Record<string, unknown> = {}) => ({
  iss: issuer,
  sub: 'm2m-client',
  client_id: 'm2m-client',
  token_use: 'access',
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  jti: Math.random().toString(36).slice(2),
  ...extra,
});

// -------------------------------------------------------------------------------------------------------------------
describe('finding 11.2: the anonymous principal never holds credential scopes; reserved tenants hold no keys', () => {
  it('finding 11.2: GATEHOUSE_ANONYMOUS_SCOPES naming keys:read or keys:write is refused at load, naming the variable and why', () => {
    for (const value of ['items:read keys:write', 'keys:read', 'keys:read,keys:write,items:read']) {
      expect(() => readAuthorizerSettings({ GATEHOUSE_ANONYMOUS_SCOPES: value })).toThrow(ConfigError);
      expect(() => readAuthorizerSettings({ GATEHOUSE_ANONYMOUS_SCOPES: value })).toThrow(/GATEHOUSE_ANONYMOUS_SCOPES.*never keys:read or keys:write.*credentials/);
    }
    // The same rule serves CDK context (infra/config.ts resolves the setting against the deployment's scopes).
    expect(() => resolveAnonymousScopes(readSettings(['anonymousScopes'], { anonymousScopes: ['keys:write'] }, 'context').anonymousScopes, GATEHOUSE_API.scopes, 'context')).toThrow(
      /Invalid configuration anonymousScopes/,
    );
    expect(() => readConfig({ anonymousScopes: ['items:read', 'keys:read'] })).toThrow(/Invalid configuration anonymousScopes.*never keys:read or keys:write/);
    expect(readAuthorizerSettings({ GATEHOUSE_ANONYMOUS_SCOPES: 'items:read audit:read' }).anonymousScopes).toEqual(['items:read', 'audit:read']);
  });

  it('finding 11.2: the default anonymous scopes are every scope but audit:read, keys:read and keys:write', () => {
    const defaults = readAuthorizerSettings({}).anonymousScopes;
    expect(defaults).toEqual(GATEHOUSE_API.scopes.anonymousDefault);
    expect(defaults.some((s) => GATEHOUSE_API.scopes.isCredential(s) || !GATEHOUSE_API.scopes.forGroups(['users']).includes(s))).toBe(false);
    expect(readConfig({}).settings.anonymousScopes).toEqual(defaults);
  });

  it('finding 11.2: an authorizer handed credential scopes for the anonymous principal drops them (defence in depth)', async () => {
    const decide = createAuthorizer({ api: GATEHOUSE_API,
      mode: 'audit',
      anonymousScopes: [...ALL_SCOPES],
      keys: new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store: keyStore(), peppers: peppers(), environment: 'test' }),
      tokens: new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [], fetcher: new jwksFetcher.BoundedJwksFetcher(500) }),
      cache: new DecisionCache({ maxEntries: 10, positiveTtlMs: 0, negativeTtlMs: 0 }),
      log: captureLog(),
    });
    const result = await decide(authorizerEvent({ headers: {}, method: 'POST', path: '/v1/keys' }));
    expect(result.context).toMatchObject({ principalId: 'anonymous', scopes: 'items:read items:write usage:read audit:read' });
    const resources = JSON.stringify(result.policyDocument.Statement.filter((st) => st.Effect === 'Allow'));
    expect(resources).not.toMatch(/\/v1\/keys/);
  });

  it('finding 11.2: a key whose tenant is reserved for non-key principals is refused (reserved_tenant); the bootstrap key is not', async () => {
    const { decide, refusals } = authorizerWith({});
    const reserved = ['anonymous', '_system', 'public', 'iam', 'Anonymous', 'IAM', 'ＰＵＢＬＩＣ', 'Admin'];
    for (const tenant of reserved) {
      const { key, record } = await issueKey({ store: keyStore(), peppers: peppers(), environment: 'test' }, { tenant, name: 'k', scopes: ['items:read'], createdBy: 't' });
      const outcome = await decide({ 'X-API-Key': key });
      expect({ tenant, outcome }).toEqual({ tenant, outcome: { verdict: 'unauthorized', reason: 'reserved_tenant' } });
      // Nobody owns a reserved tenant's audit trail: the attempt is reported to the administrators.
      expect(refusals.at(-1)).toMatchObject({ keyId: record.id, reason: 'reserved_tenant', tenant: SYSTEM_TENANT });
    }
    const bootstrap = await ensureAdminKey({ scopes: GATEHOUSE_API.scopes, store: keyStore(), peppers: peppers(), environment: 'test' });
    const admin = await decide({ 'X-API-Key': bootstrap.key });
    expect(admin.verdict).toBe('allow');
    if (admin.verdict === 'allow') expect(admin.result.context).toMatchObject({ tenant: 'admin', admin: 'true' });
  });
});

// -------------------------------------------------------------------------------------------------------------------
describe('finding 11.4: junk refusals cannot blind the audit trail of a stored key', () => {
  function countingSink(store: AuditStore): CountableAuditSink & { records: AuditEventInput[]; updates: number } {
    const sink = {
      records: [] as AuditEventInput[],
      updates: 0,
      record: (e: AuditEventInput) => {
        sink.records.push(e);
        return store.record(e);
      },
      updateDetails: (e: Pick<AuditEvent, 'tenant' | 'at' | 'id'>, d: NonNullable<AuditEventInput['details']>) => {
        sink.updates++;
        return store.updateDetails(e, d);
      },
    };
    return sink;
  }
  const refusal = (extra: Partial<RefusalEvent> = {}): RefusalEvent => ({
    reason: 'unknown',
    credentialKind: 'api_key',
    method: 'GET',
    path: '/v1/items',
    mode: 'enforce',
    outcome: 'denied',
    ...extra,
  });
  async function eventsOf(store: AuditStore, tenant: string, day: string): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    let token: string | undefined;
    do {
      const page = await store.query({ tenant, from: `${day}T00:00:00Z`, to: `${day}T23:59:59Z`, limit: 100, ...(token ? { nextToken: token } : {}) });
      out.push(...page.events);
      token = page.nextToken;
    } while (token);
    return out;
  }
  const junkId = (i: number) => `J${String(i).padStart(11, '0')}`;

  it('finding 11.4: after thousands of junk refusals, refusals of a stored key still reach its tenant with the key id and source IP', async () => {
    const day = '2041-01-01';
    const clock = { t: Date.parse(`${day}T00:00:00.000Z`) };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const recorder = new RefusalRecorder({ sink: countingSink(store), log: captureLog(), now: () => clock.t });
    for (let i = 0; i < 3000; i++) {
      recorder.record(refusal({ keyId: junkId(i), sourceIp: `10.9.${i >> 8}.${i & 255}` }));
      clock.t += 5; // 15 s in all: one window
    }
    for (let i = 0; i < 3; i++) recorder.record(refusal({ reason: 'secret_mismatch', tenant: 'victim-1', keyId: 'VictimKey001', sourceIp: '198.51.100.77' }));
    recorder.record(refusal({ reason: 'secret_mismatch', tenant: 'victim-1', keyId: 'VictimKey001', sourceIp: '198.51.100.78' }));
    await recorder.flushAll();

    const victim = await eventsOf(store, 'victim-1', day);
    expect(victim.length).toBeGreaterThan(0);
    expect(victim.every((e) => e.keyId === 'VictimKey001' && e.reason === 'secret_mismatch')).toBe(true);
    expect(victim.map((e) => e.sourceIp).sort()).toEqual(['198.51.100.77', '198.51.100.78']);
    expect(victim.reduce((n, e) => n + Number(e.details?.count), 0)).toBe(4);
    // The junk stays junk: under the system tenant, all of it counted, none of it under the victim.
    const system = await eventsOf(store, SYSTEM_TENANT, day);
    expect(system.reduce((n, e) => n + Number(e.details?.count), 0)).toBe(3000);
    expect(system.some((e) => e.keyId === 'VictimKey001')).toBe(false);
  });

  it('finding 11.4: a flood on one tenant\'s key is bounded per tenant; the overflow stays with that tenant, with the key id and a sample of IPs', async () => {
    const day = '2041-01-02';
    const clock = { t: Date.parse(`${day}T00:00:00.000Z`) };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const sink = countingSink(store);
    const recorder = new RefusalRecorder({ sink, log: captureLog(), now: () => clock.t, maxEventsPerTenantPerWindow: 10 });
    for (let i = 0; i < 3000; i++) {
      recorder.record(refusal({ reason: 'secret_mismatch', tenant: 'flooded-1', keyId: 'FloodedKey01', sourceIp: `10.1.${i >> 8}.${i & 255}` }));
      expect(recorder.openWindows).toBeLessThanOrEqual(11);
    }
    // Another tenant is untouched by the first one's flood.
    recorder.record(refusal({ reason: 'revoked', tenant: 'bystander-1', keyId: 'BystanderK01', sourceIp: '192.0.2.10' }));
    await recorder.flushAll();

    const flooded = await eventsOf(store, 'flooded-1', day);
    expect(flooded.length).toBeLessThanOrEqual(11);
    expect(flooded.every((e) => e.keyId === 'FloodedKey01')).toBe(true);
    expect(flooded.reduce((n, e) => n + Number(e.details?.count), 0)).toBe(3000);
    const aggregate = flooded.find((e) => e.details?.aggregated === true);
    expect(aggregate).toMatchObject({ tenant: 'flooded-1', keyId: 'FloodedKey01', reason: 'secret_mismatch', details: { count: 2990 } });
    const sample = String(aggregate?.details?.sourceIps).split(' ');
    expect(sample.length).toBeGreaterThan(0);
    expect(sample.length).toBeLessThanOrEqual(10);
    expect(sample.every((ip) => /^10\.1\.\d+\.\d+$/.test(ip))).toBe(true);
    expect(aggregate?.details?.distinctSourceIps).toBeGreaterThanOrEqual(10);
    expect(sink.records.filter((r) => r.tenant === 'flooded-1')).toHaveLength(11);
    expect(await eventsOf(store, 'bystander-1', day)).toMatchObject([{ keyId: 'BystanderK01', sourceIp: '192.0.2.10', reason: 'revoked' }]);
    expect((await eventsOf(store, SYSTEM_TENANT, day)).length).toBe(0);
  });

  it('finding 11.4: memory stays bounded across many tenants, and every tenant still gets its own refusals', async () => {
    const day = '2041-01-03';
    const clock = { t: Date.parse(`${day}T00:00:00.000Z`) };
    const store = new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7, now: () => clock.t });
    const recorder = new RefusalRecorder({ sink: store, log: captureLog(), now: () => clock.t, maxOwnedBuckets: 50 });
    for (let i = 0; i < 200; i++) {
      recorder.record(refusal({ reason: 'expired', tenant: `many-${i}`, keyId: `ManyKey${String(i).padStart(5, '0')}`, sourceIp: '203.0.113.1' }));
      expect(recorder.openWindows).toBeLessThanOrEqual(50);
    }
    await recorder.flushAll();
    for (const i of [0, 77, 199]) {
      expect(await eventsOf(store, `many-${i}`, day)).toMatchObject([{ keyId: `ManyKey${String(i).padStart(5, '0')}`, sourceIp: '203.0.113.1', details: { count: 1 } }]);
    }
  });
});

// -------------------------------------------------------------------------------------------------------------------
describe('finding 11.8: an unknown kid in a JWKS that was fetched is a refused credential, every time', () => {
  const interval = () => jwksFetcher.JWKS_MIN_REFETCH_MS;

  /** A JWKS source of either kind over one loopback issuer; `fetches` counts what reached the source. */
  async function source(kind: 'fetch' | 'store', keys: LabKey[]) {
    const server = await startJwksServer(keys.map((k) => k.jwk));
    servers.push(server);
    const clock = { t: Date.now() };
    let published = 0;
    const publish = async (next: LabKey[]) => {
      server.keys = next.map((k) => k.jwk);
      // The mirror copies what the issuer publishes (its fetchedAt only moves forward).
      if (kind === 'store') await writeJwks(dynamo.doc, dynamo.tableName, server.jwksUri, JSON.stringify({ keys: server.keys }), new Date(Date.now() + ++published * 1000).toISOString());
    };
    const inner = kind === 'fetch' ? new jwksFetcher.BoundedJwksFetcher(1000) : new StoreJwksFetcher(dynamo.doc, dynamo.tableName);
    const counted = { fetches: 0 };
    const fetcher = { fetch: (uri: string) => (counted.fetches++, inner.fetch(uri)) };
    await publish(keys);
    const cfg = issuerConfig(server);
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [cfg], fetcher, now: () => clock.t });
    return { server, clock, publish, counted, cfg, tokens, ...authorizerWith({ tokens }) };
  }

  for (const kind of ['fetch', 'store'] as const) {
    it(`finding 11.8 (${kind}): forged kids get 401 with an audit event every time, never a 503, and the source is not flooded`, async () => {
      const genuine = rsaKey('issuer-kid-1');
      const s = await source(kind, [genuine]);
      expect((await s.decide(bearer(signWith(genuine, machineClaims(s.cfg.issuer))))).verdict).toBe('allow');
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 5; i++) outcomes.push(await s.decide(bearer(signWith(rsaKey(`forged-${i}`), machineClaims(s.cfg.issuer)))));
      expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ verdict: 'unauthorized', reason: 'invalid_token' })));
      expect(s.refusals.map((r) => r.reason)).toEqual(Array.from({ length: 5 }, () => 'invalid_token'));
      // One fetch for the genuine token, one refetch for the first forged kid (a rotation might have explained
      // it); the other forged kids are answered from that fresh copy.
      expect(s.counted.fetches).toBe(2);
      // Once that copy is older than the refetch bound, one more forged kid refetches it; the rest do not.
      s.clock.t += interval();
      for (let i = 0; i < 3; i++) outcomes.push(await s.decide(bearer(signWith(rsaKey(`forged-later-${i}`), machineClaims(s.cfg.issuer)))));
      expect(outcomes.slice(5)).toEqual(Array.from({ length: 3 }, () => ({ verdict: 'unauthorized', reason: 'invalid_token' })));
      expect(s.refusals).toHaveLength(8);
      expect(s.counted.fetches).toBe(3);
    });

    it(`finding 11.8 (${kind}): after the issuer rotates its key, the new kid verifies within the documented refetch bound, even right after a forged kid`, async () => {
      const before = rsaKey('rotation-old');
      const after = rsaKey('rotation-new');
      const s = await source(kind, [before]);
      expect((await s.decide(bearer(signWith(before, machineClaims(s.cfg.issuer))))).verdict).toBe('allow');
      expect(await s.decide(bearer(signWith(rsaKey('forged-before-rotation'), machineClaims(s.cfg.issuer))))).toEqual({ verdict: 'unauthorized', reason: 'invalid_token' });
      await s.publish([before, after]);
      s.clock.t += interval();
      const rotated = await s.decide(bearer(signWith(after, machineClaims(s.cfg.issuer))));
      expect(rotated.verdict).toBe('allow');
      expect(interval()).toBeLessThanOrEqual(2000);
    });
  }

  it('finding 11.8: a JWKS that cannot be fetched is still a dependency failure (no 401, no refusal), for both sources', async () => {
    const genuine = rsaKey('down-kid');
    const fetched = await source('fetch', [genuine]);
    expect((await fetched.decide(bearer(signWith(genuine, machineClaims(fetched.cfg.issuer))))).verdict).toBe('allow');
    await fetched.server.stop();
    fetched.clock.t += interval();
    const down = await fetched.decide(bearer(signWith(rsaKey('unknown-while-down'), machineClaims(fetched.cfg.issuer))));
    expect(down.verdict).toBe('failure');
    expect(fetched.refusals).toHaveLength(0);

    const notMirrored = { ...issuerConfig(fetched.server), issuer: 'https://not-mirrored.example/issuer', jwksUri: 'https://not-mirrored.example/jwks' };
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [notMirrored], fetcher: new StoreJwksFetcher(dynamo.doc, dynamo.tableName) });
    const { decide, refusals } = authorizerWith({ tokens });
    expect((await decide(bearer(signWith(genuine, machineClaims(notMirrored.issuer))))).verdict).toBe('failure');
    expect(refusals).toHaveLength(0);
  });
});

// -------------------------------------------------------------------------------------------------------------------
describe('finding 11.11: only the configured resource server\'s scopes count', () => {
  const poolId = 'us-east-1_Round2Pool';
  const poolIssuer = `https://cognito-idp.us-east-1.amazonaws.com/${poolId}`;
  const poolKey = rsaKey('round2-pool');
  function poolVerifier(extra: { resourceServerId?: string } = {}) {
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes,
      cognito: { userPoolId: poolId, clientIds: ['poolclient'], tokenUse: 'access', ...extra },
      issuers: [],
      fetcher: new jwksFetcher.BoundedJwksFetcher(500),
    });
    tokens.jwksCache.addJwks(`${poolIssuer}/.well-known/jwks.json`, { keys: [poolKey.jwk] });
    return tokens;
  }
  const poolMachineToken = (scope: string) => signWith(poolKey, { ...machineClaims(poolIssuer), sub: 'poolclient', client_id: 'poolclient', scope });
  const scopesOf = async (tokens: TokenVerifier, token: string) => {
    const result = await tokens.verify(token);
    return result.ok ? result.principal.scopes : result.reason;
  };

  it('finding 11.11: a Cognito token counts `gatehouse/<scope>` only (the resource server infra creates), never `<other>/<scope>`', async () => {
    expect(DEFAULT_RESOURCE_SERVER_ID).toBe(RESOURCE_SERVER_ID);
    const configured = readAuthorizerSettings({ GATEHOUSE_COGNITO: JSON.stringify({ userPoolId: poolId, clientIds: ['c'], resourceServerId: 'https://api.example.com' }) });
    expect(configured.cognito).toMatchObject({ resourceServerId: 'https://api.example.com' });
    expect(() => readAuthorizerSettings({ GATEHOUSE_COGNITO: JSON.stringify({ userPoolId: poolId, clientIds: ['c'], resourceServerId: 'two words' }) })).toThrow(/GATEHOUSE_COGNITO/);
    const tokens = poolVerifier();
    expect(await scopesOf(tokens, poolMachineToken('otherapi/keys:write gatehouse/items:read keys:read a/b/audit:read'))).toEqual(['items:read']);
    const custom = poolVerifier({ resourceServerId: 'https://api.example.com' });
    expect(await scopesOf(custom, poolMachineToken('https://api.example.com/usage:read gatehouse/keys:write https://api.example.com.evil/keys:read'))).toEqual(['usage:read']);
  });

  it('finding 11.11: a generic OIDC issuer counts bare scopes by default, and exactly its configured scopePrefix when it has one', async () => {
    const key = rsaKey('round2-generic');
    const server = await startJwksServer([key.jwk]);
    servers.push(server);
    const bare = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [issuerConfig(server)], fetcher: new jwksFetcher.BoundedJwksFetcher(1000) });
    const token = signWith(key, machineClaims(`${server.origin}/issuer`, { scope: 'otherapi/keys:write gatehouse/audit:read items:read' }));
    expect(await scopesOf(bare, token)).toEqual(['items:read']);
    const prefixed = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [issuerConfig(server, { scopePrefix: 'gatehouse/' })], fetcher: new jwksFetcher.BoundedJwksFetcher(1000) });
    expect(await scopesOf(prefixed, token)).toEqual(['audit:read']);
    // The setting: optional, validated, passed through.
    const issuers = readAuthorizerSettings({
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', clientIds: ['c'], scopePrefix: 'gatehouse/' }]),
    }).oidcIssuers;
    expect(issuers[0]).toMatchObject({ scopePrefix: 'gatehouse/' });
    expect(() =>
      readAuthorizerSettings({ GATEHOUSE_OIDC_ISSUERS: JSON.stringify([{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', clientIds: ['c'], scopePrefix: 'a b/' }]) }),
    ).toThrow(/GATEHOUSE_OIDC_ISSUERS/);
  });
});

// -------------------------------------------------------------------------------------------------------------------
describe('finding 11.13: unknown key ids do the same work as a wrong secret', () => {
  it('finding 11.13: a known id with a wrong secret, an unknown id and a record of the other environment each compute one keyed hash and one constant-time comparison', async () => {
    const { record } = await issueKey({ store: keyStore(), peppers: peppers(), environment: 'test' }, { tenant: 'timing-a', name: 'k', scopes: ['items:read'], createdBy: 't' });
    const otherEnv = await issueKey({ store: keyStore(), peppers: peppers(), environment: 'live' }, { tenant: 'timing-a', name: 'k', scopes: ['items:read'], createdBy: 't' });
    const counts = { hash: 0, equal: 0 };
    const keyHash = {
      hash: (key: string, pepper: Buffer) => (counts.hash++, hashApiKey(key, pepper)),
      equal: (a: string, b: string) => (counts.equal++, hashesEqual(a, b)),
    };
    // A store that answers the live record for a test-environment id: the "wrong env in record" path.
    const store: KeyLookup = { get: (id): Promise<KeyRecord | undefined> => (id === 'EnvMismatch1' ? Promise.resolve({ ...otherEnv.record, id }) : keyStore().get(id)) };
    const verifier = new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store, peppers: peppers(), environment: 'test', keyHash });
    const cases: [string, string][] = [
      [generateApiKey('test', record.id).key, 'secret_mismatch'],
      [generateApiKey('test').key, 'unknown'],
      [generateApiKey('test', 'EnvMismatch1').key, 'unknown'],
    ];
    const work: Record<string, unknown>[] = [];
    for (const [key, reason] of cases) {
      counts.hash = 0;
      counts.equal = 0;
      const result = await verifier.verify(key);
      work.push({ reason: result.ok ? 'ok' : result.reason, ...counts });
      expect(result.ok ? 'ok' : result.reason).toBe(reason);
    }
    expect(work).toEqual(cases.map(([, reason]) => ({ reason, hash: 1, equal: 1 })));
  });
});

// -------------------------------------------------------------------------------------------------------------------
describe('finding 11.15: tenant identifiers are normalised and bounded', () => {
  const poolId = 'us-east-1_Round2Tenant';
  const poolIssuer = `https://cognito-idp.us-east-1.amazonaws.com/${poolId}`;
  const poolKey = rsaKey('round2-tenant');
  function tenantVerifier() {
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, cognito: { userPoolId: poolId, clientIds: ['poolclient'], tokenUse: 'access' }, issuers: [], fetcher: new jwksFetcher.BoundedJwksFetcher(500) });
    tokens.jwksCache.addJwks(`${poolIssuer}/.well-known/jwks.json`, { keys: [poolKey.jwk] });
    return tokens;
  }
  const personToken = (tenant: unknown) =>
    signWith(poolKey, { ...machineClaims(poolIssuer), sub: 'person-1', client_id: 'poolclient', username: 'p', 'cognito:groups': ['users'], 'custom:tenant': tenant });

  it.each([
    ['Admin', 'reserved_tenant'],
    ['ADMIN', 'reserved_tenant'],
    ['ａｄｍｉｎ', 'reserved_tenant'],
    ['_System', 'reserved_tenant'],
    ['Anonymous', 'reserved_tenant'],
    ['admin ', 'bad_tenant'],
    [' acme', 'bad_tenant'],
    ['anonymous\u200b', 'bad_tenant'],
    ['ac\u200dme', 'bad_tenant'],
    ['acme\u0000', 'bad_tenant'],
    ['acme\u202e', 'bad_tenant'],
    ['   ', 'bad_tenant'],
    ['\u200b', 'bad_tenant'],
    ['a'.repeat(257), 'bad_tenant'],
    ['é'.repeat(129), 'bad_tenant'],
    ['x'.repeat(3000), 'bad_tenant'],
  ])('finding 11.15: a token whose tenant claim is %j is refused with 401 (%s)', async (tenant, reason) => {
    const { decide, refusals } = authorizerWith({ tokens: tenantVerifier() });
    expect(await decide(bearer(personToken(tenant)))).toEqual({ verdict: 'unauthorized', reason });
    expect(refusals).toHaveLength(1);
  });

  it('finding 11.15: tenants are NFKC-normalised; a tenant of exactly 256 UTF-8 bytes is accepted', async () => {
    const tokens = tenantVerifier();
    const fullwidth = await tokens.verify(personToken('ａｃｍｅ'));
    expect(fullwidth.ok && fullwidth.principal.tenant).toBe('acme');
    const longest = 'é'.repeat(128);
    const atBound = await tokens.verify(personToken(longest));
    expect(atBound.ok && atBound.principal.tenant).toBe(longest);
    const spaced = await tokens.verify(personToken('Acme Corp'));
    expect(spaced.ok && spaced.principal.tenant).toBe('Acme Corp');
  });

  it('finding 11.15: principalFromContext refuses tenants out of bounds or with control, format or surrounding whitespace characters', () => {
    const context = (tenant: string) => ({ principalId: 'p', authMethod: 'jwt', tenant, scopes: 'items:read', admin: 'false' });
    for (const bad of ['x'.repeat(2100), 'é'.repeat(129), 'acme\u0000', 'acme\u200b', ' acme', 'acme\n', '\u2028']) {
      expect(principalFromContext(context(bad))).toBeUndefined();
    }
    expect(principalFromContext(context('acme'))?.tenant).toBe('acme');
    expect(principalFromContext(context('anonymous'))?.tenant).toBe('anonymous'); // the anonymous principal's own tenant
  });

  it('finding 11.15: a stored key whose tenant is malformed is refused by the authorizer (bad_tenant), reported to the system tenant', async () => {
    const { decide, refusals } = authorizerWith({});
    for (const tenant of ['acme\u200b', ' acme', 'ac\u0007me']) {
      const { key, record } = await issueKey({ store: keyStore(), peppers: peppers(), environment: 'test' }, { tenant, name: 'k', scopes: ['items:read'], createdBy: 't' });
      expect(await decide({ 'X-API-Key': key })).toEqual({ verdict: 'unauthorized', reason: 'bad_tenant' });
      expect(refusals.at(-1)).toMatchObject({ keyId: record.id, tenant: SYSTEM_TENANT });
    }
  });

  it('finding 11.15: a write under a 2 KB tenant answers 401, not a 5xx', async () => {
    const services = testServices(dynamo);
    const context = { principalId: 'p', authMethod: 'jwt', tenant: 'x'.repeat(2100), scopes: ALL_SCOPES.join(' '), admin: 'false' };
    const out = captureOutput();
    try {
      const created = await createItemsHandler(services)(apiEvent({ method: 'POST', path: '/v1/items', rawAuthorizer: context, body: { name: 'n' } }), lambdaContext());
      expect(created.statusCode).toBe(401);
    } finally {
      out.restore();
    }
  });
});
