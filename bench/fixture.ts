/**
 * The inputs every decision benchmark shares, built the way the deployed authorizer builds them
 * (`buildAuthorizerDeps`, as in lambdas/authorizer/handler.ts) against dynalite on loopback:
 * one API key in the store, one Cognito-shaped RS256 access token of a `users`-group person, and two authorizers
 * over the same dependencies — one with the decision cache on (hit), one with it off (every decision is a miss).
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer, type Authorizer } from '../lambdas/authorizer/authorizer.js';
import { buildAuthorizerDeps, readAuthorizerSettings } from '../lambdas/authorizer/wiring.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import type { KeyRecord } from '../lambdas/core/key-record.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import type { Log } from '../lambdas/core/log.js';
import { PepperProvider, StaticPepperSource, type PepperRing, type PepperSource } from '../lambdas/core/pepper.js';
import { TokenVerifier } from '../lambdas/core/token-verifier.js';
import { authorizerEvent } from '../test/support/events.js';
import { cognitoAccessClaims, makeSigningKey, signRs256, type TestSigningKey } from '../test/support/tokens.js';
import { startCountingDynamo, type CountingDynamo } from './dynamo.js';

export const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
export const POOL_ID = 'us-east-1_BenchPool1';
export const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`;
export const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;
export const CLIENT_ID = 'benchclient';
const PEPPER = 'bench-pepper-'.padEnd(48, 'x');

/** A pepper source that counts its loads (Secrets Manager reads, in the deployment). */
class CountingPepperSource implements PepperSource {
  loads = 0;
  private readonly inner = new StaticPepperSource(PEPPER);
  load(): Promise<PepperRing> {
    this.loads++;
    return this.inner.load();
  }
}

export interface DecisionFixture {
  readonly dynamo: CountingDynamo;
  readonly pepperSource: { readonly loads: number };
  readonly signer: TestSigningKey;
  readonly key: string;
  /** The key's stored record. */
  readonly record: KeyRecord;
  readonly jwt: string;
  readonly keyEvent: APIGatewayRequestAuthorizerEvent;
  readonly jwtEvent: APIGatewayRequestAuthorizerEvent;
  /** Decision cache on (TTL 5 s): every decision after the first is a hit. */
  readonly cached: Authorizer;
  /** Decision cache off (TTL 0): every decision verifies in full. */
  readonly uncached: Authorizer;
  close(): Promise<void>;
}

export async function buildDecisionFixture(): Promise<DecisionFixture> {
  const dynamo = await startCountingDynamo();
  const pepperSource = new CountingPepperSource();
  const signer = makeSigningKey();

  const build = (cacheTtlSeconds: number): Authorizer => {
    const settings = readAuthorizerSettings({
      GATEHOUSE_TABLE_NAME: dynamo.tableName,
      GATEHOUSE_LOCAL_PEPPER: PEPPER,
      GATEHOUSE_KEY_ENV: 'test',
      GATEHOUSE_CACHE_TTL_SECONDS: String(cacheTtlSeconds),
      GATEHOUSE_NEGATIVE_CACHE_TTL_SECONDS: '0',
      GATEHOUSE_COGNITO: JSON.stringify({ userPoolId: POOL_ID, clientIds: [CLIENT_ID], tokenUse: 'access' }),
    });
    // Bookkeeping lines go nowhere here (they would flood the terminal); bench/bookkeeping.ts measures their cost.
    const deps = buildAuthorizerDeps(settings, silent, { dynamo: dynamo.doc, pepperSource, bookkeeping: () => undefined });
    // The Cognito JWKS URI is on the internet: hand the verifier its keys, as a warm container holds them.
    if (!(deps.tokens instanceof TokenVerifier)) throw new Error('expected the TokenVerifier');
    deps.tokens.jwksCache.addJwks(JWKS_URI, { keys: [signer.jwk] });
    return createAuthorizer(deps);
  };

  const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 3600 });
  const { key, record } = await issueKey(
    { store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers, environment: 'test' },
    { tenant: 'bench-tenant', name: 'bench', scopes: ['items:read', 'keys:read'], createdBy: 'bench' },
  );
  const jwt = signRs256(
    { alg: 'RS256', kid: signer.kid },
    cognitoAccessClaims({ issuer: ISSUER, clientId: CLIENT_ID, groups: ['users'], scope: 'openid' }),
    signer.privateKey,
  );
  const cached = build(5);
  const uncached = build(0);
  const keyEvent = authorizerEvent({ headers: { 'X-API-Key': key } });
  const jwtEvent = authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } });
  // Both decide once before anything is timed: pepper loaded, SDK clients and key objects warm.
  for (const decide of [cached, uncached]) {
    await decide(keyEvent);
    await decide(jwtEvent);
  }
  return { dynamo, pepperSource, signer, key, record, jwt, keyEvent, jwtEvent, cached, uncached, close: () => dynamo.stop() };
}
