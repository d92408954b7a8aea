/**
 * The authorizer under attack, with real components (the pattern of test/authorizer.test.ts):
 * - dynalite holding real key records (issued with the real issuer and pepper);
 * - a "Cognito" user pool: CognitoJwtVerifier with its JWKS served by a recording fetcher (no network to AWS);
 * - a generic OIDC issuer whose JWKS (one RSA and one EC key) is served over loopback HTTP;
 * - optionally the real local oidc-provider as a child process (real tokens, real JWKS endpoint);
 * - an attacker's server with its own JWKS, which must never be contacted.
 * Every JWKS fetch goes through one recording fetcher, so tests can prove which URLs were (never) fetched.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { Fetcher } from 'aws-jwt-verify/https';
import { createAuthorizer, type AuthorizerDeps, type RefusalEvent } from '../../../lambdas/authorizer/authorizer.js';
import { DecisionCache } from '../../../lambdas/core/decision-cache.js';
import { BoundedJwksFetcher } from '../../../lambdas/core/jwks-fetcher.js';
import { issueKey } from '../../../lambdas/core/key-issuer.js';
import type { KeyRecord } from '../../../lambdas/core/key-record.js';
import { DynamoKeyStore } from '../../../lambdas/core/key-store.js';
import { ApiKeyVerifier, type KeyLookup } from '../../../lambdas/core/key-verifier.js';
import { PepperProvider, StaticPepperSource } from '../../../lambdas/core/pepper.js';
import type { Scope } from '../../../lambdas/core/scopes.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../../../lambdas/routes.js';
import { DEFAULT_CLAIMS, TokenVerifier, type OidcIssuerConfig } from '../../../lambdas/core/token-verifier.js';
import { captureLog } from '../../support/capture-log.js';
import { startDynalite, type TestDynamo } from '../../support/dynalite.js';
import { authorizerEvent } from '../../support/events.js';
import { spawnLocalOidc, type LocalOidcProcess } from '../../support/oidc-process.js';
import { ecKey, nowSeconds, rsaKey, signWith, type LabKey } from './jose.js';
import { startJwksServer, type JwksServer } from './jwks-server.js';

export const POOL_ID = 'us-east-1_SecLabPool1';
export const POOL_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`;
export const POOL_JWKS_URI = `${POOL_ISSUER}/.well-known/jwks.json`;
export const POOL_CLIENT = 'seclabappclient1';
export const OTHER_POOL_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool9';
export const GENERIC_ISSUER_PATH = '/issuer';
export const GENERIC_AUDIENCE = 'https://api.gatehouse.test';
export const LAB_PEPPER = 'security-lab-pepper-'.padEnd(48, 's');

export type Outcome =
  | { readonly verdict: 'allow'; readonly result: APIGatewayAuthorizerResult }
  | { readonly verdict: 'unauthorized'; readonly reason?: string }
  | { readonly verdict: 'failure'; readonly message: string };

/** Settles an authorizer call into what API Gateway would make of it. */
export async function settle(decision: Promise<APIGatewayAuthorizerResult>, refusals?: RefusalEvent[]): Promise<Outcome> {
  try {
    return { verdict: 'allow', result: await decision };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message === 'Unauthorized') {
      const reason = refusals?.[refusals.length - 1]?.reason;
      return reason === undefined ? { verdict: 'unauthorized' } : { verdict: 'unauthorized', reason };
    }
    return { verdict: 'failure', message };
  }
}

/** `401 (reason)` or `failure: message` or `ALLOW principal`: one line per outcome, for the printed tables. */
export function describeOutcome(o: Outcome): string {
  if (o.verdict === 'allow') return `ALLOW ${o.result.principalId}`;
  if (o.verdict === 'unauthorized') return `401 (${o.reason ?? 'no credential'})`;
  return `non-401 failure (${o.message})`;
}

export interface IssuedKey {
  readonly key: string;
  readonly record: KeyRecord;
}

export interface Lab {
  readonly dynamo: TestDynamo;
  readonly store: DynamoKeyStore;
  readonly pool: { readonly key: LabKey; readonly otherPoolKey: LabKey };
  readonly generic: { readonly issuer: string; readonly rsa: LabKey; readonly ec: LabKey; readonly jwks: JwksServer };
  readonly attacker: { readonly key: LabKey; readonly ec: LabKey; readonly server: JwksServer };
  readonly oidc?: LocalOidcProcess;
  /** Every JWKS URI the verifiers asked for. */
  readonly fetched: string[];
  readonly fetcher: Fetcher;
  issuers(): OidcIssuerConfig[];
  /** A new authorizer (fresh decision cache and JWKS cache, like a cold container) over the lab's store. */
  authorizer(overrides?: Partial<AuthorizerDeps> & { store?: KeyLookup }): { decide: (e: APIGatewayRequestAuthorizerEvent) => Promise<Outcome>; refusals: RefusalEvent[] };
  /** One decision on a cold authorizer. */
  decide(args: Parameters<typeof authorizerEvent>[0]): Promise<Outcome>;
  newKey(scopes: readonly Scope[], extra?: { tenant?: string; expiresAt?: string }): Promise<IssuedKey>;
  /** Claims of a Cognito access token for the lab's pool. */
  poolClaims(extra?: Record<string, unknown>): Record<string, unknown>;
  poolToken(extra?: Record<string, unknown>, header?: Record<string, unknown>): string;
  genericClaims(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export const peppers = () => new PepperProvider(new StaticPepperSource(LAB_PEPPER), { refreshSeconds: 300, maxStaleSeconds: 3600 });

export async function startLab(options: { oidcProcess?: boolean; tableName?: string } = {}): Promise<Lab> {
  const poolKey = rsaKey('pool-kid-1');
  const otherPoolKey = rsaKey('pool-kid-1'); // another pool, same kid
  const genericRsa = rsaKey('generic-rsa-1');
  const genericEc = ecKey('generic-ec-1');
  const attackerKey = rsaKey('attacker-rsa');
  const attackerEc = ecKey('attacker-ec');
  const [dynamo, jwks, attackerServer, oidc] = await Promise.all([
    startDynalite(options.tableName ?? 'gatehouse-security'),
    startJwksServer([genericRsa.jwk, genericEc.jwk]),
    startJwksServer([attackerKey.jwk, attackerEc.jwk]),
    options.oidcProcess ? spawnLocalOidc() : Promise.resolve(undefined),
  ]);
  const genericIssuer = `${jwks.origin}${GENERIC_ISSUER_PATH}`;
  const store = new DynamoKeyStore(dynamo.doc, dynamo.tableName);
  const fetched: string[] = [];
  const http = new BoundedJwksFetcher(1000);
  const fetcher: Fetcher = {
    fetch: (uri: string) => {
      fetched.push(uri);
      if (uri === POOL_JWKS_URI) {
        const bytes = new TextEncoder().encode(JSON.stringify({ keys: [poolKey.jwk] }));
        return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      }
      return http.fetch(uri);
    },
  };

  const issuers = (): OidcIssuerConfig[] => [
    { issuer: genericIssuer, jwksUri: jwks.jwksUri, audience: [GENERIC_AUDIENCE], clientIds: null, tokenUse: 'access', ...DEFAULT_CLAIMS },
    ...(oidc
      ? [
          {
            issuer: oidc.config.issuer,
            jwksUri: oidc.config.jwksUri,
            audience: null,
            clientIds: [oidc.config.machineClient.clientId, oidc.config.loginClient.clientId],
            tokenUse: 'access' as const,
            ...DEFAULT_CLAIMS,
            scopePrefix: `${oidc.config.resourceServerId}/`,
          },
        ]
      : []),
  ];

  const authorizer: Lab['authorizer'] = (overrides = {}) => {
    const refusals: RefusalEvent[] = [];
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes,
      cognito: { userPoolId: POOL_ID, clientIds: [POOL_CLIENT], tokenUse: 'access' },
      issuers: issuers(),
      fetcher,
    });
    tokens.jwksCache.addJwks(POOL_JWKS_URI, { keys: [poolKey.jwk] }); // as cacheJwks() / the JWKS mirror would
    const { store: storeOverride, ...rest } = overrides;
    const decide = createAuthorizer({ api: GATEHOUSE_API,
      mode: 'enforce',
      anonymousScopes: ALL_SCOPES.filter((s) => s !== 'audit:read'),
      keys: new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store: storeOverride ?? store, peppers: peppers(), environment: 'test' }),
      tokens,
      cache: new DecisionCache({ maxEntries: 1000, positiveTtlMs: 3000, negativeTtlMs: 1000 }),
      log: captureLog(),
      onRefusal: (e) => refusals.push(e),
      ...rest,
    });
    return { decide: (event) => settle(decide(event), refusals), refusals };
  };

  const poolClaims = (extra: Record<string, unknown> = {}) => {
    const now = nowSeconds();
    return {
      sub: 'b1c2d3e4-0000-4000-8000-000000000001',
      iss: POOL_ISSUER,
      client_id: POOL_CLIENT,
      token_use: 'access',
      scope: 'openid',
      auth_time: now,
      iat: now,
      exp: now + 3600,
      jti: 'jti-1',
      username: 'mallory',
      'cognito:groups': ['users'],
      ...extra,
    };
  };
  const genericClaims = (extra: Record<string, unknown> = {}) => {
    const now = nowSeconds();
    return { sub: 'generic-user-1', iss: genericIssuer, aud: GENERIC_AUDIENCE, token_use: 'access', iat: now, exp: now + 3600, username: 'gina', 'cognito:groups': ['users'], ...extra };
  };

  return {
    dynamo,
    store,
    pool: { key: poolKey, otherPoolKey },
    generic: { issuer: genericIssuer, rsa: genericRsa, ec: genericEc, jwks },
    attacker: { key: attackerKey, ec: attackerEc, server: attackerServer },
    ...(oidc ? { oidc } : {}),
    fetched,
    fetcher,
    issuers,
    authorizer,
    decide: (args) => authorizer().decide(authorizerEvent(args)),
    newKey: (scopes, extra = {}) =>
      issueKey(
        { store, peppers: peppers(), environment: 'test' },
        { tenant: extra.tenant ?? 'tenant-a', name: 'lab key', scopes, createdBy: 'lab', ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {}) },
      ),
    poolClaims,
    poolToken: (extra = {}, header = {}) => signWith(poolKey, poolClaims(extra), header),
    genericClaims,
    close: async () => {
      await Promise.all([dynamo.stop(), jwks.close(), attackerServer.close(), oidc?.stop()]);
    },
  };
}

/** Headers carrying a token as a Bearer credential. */
export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
