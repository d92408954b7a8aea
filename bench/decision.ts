/**
 * Warm decision time per request, in-process: the Gatehouse authorizer beside a bare crypto.verify of the same
 * token, measured in the same run. Run: `npx tsx bench/decision.ts`. Not part of `npm test`.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { cpus } from 'node:os';
import { createAuthorizer } from '../lambdas/authorizer/authorizer.js';
import { DecisionCache } from '../lambdas/core/decision-cache.js';
import { BoundedJwksFetcher } from '../lambdas/core/jwks-fetcher.js';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { ApiKeyVerifier } from '../lambdas/core/key-verifier.js';
import type { Log } from '../lambdas/core/log.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { TokenVerifier } from '../lambdas/core/token-verifier.js';
import { startDynalite } from '../test/support/dynalite.js';
import { authorizerEvent } from '../test/support/events.js';
import { cognitoAccessClaims, makeSigningKey, signRs256 } from '../test/support/tokens.js';
import { formatNs, measure, type Measurement } from './measure.js';

const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const POOL_ID = 'us-east-1_BenchPool1';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`;

async function main(): Promise<void> {
  const dynamo = await startDynalite('gatehouse-bench');
  const peppers = new PepperProvider(new StaticPepperSource('bench-pepper-'.padEnd(48, 'x')), { refreshSeconds: 300, maxStaleSeconds: 3600 });
  const store = new DynamoKeyStore(dynamo.doc, dynamo.tableName);
  const { key } = await issueKey({ store, peppers, environment: 'test' }, { tenant: 't', name: 'bench', scopes: ['items:read'], createdBy: 'bench' });
  const signer = makeSigningKey();
  const jwt = signRs256({ alg: 'RS256', kid: signer.kid }, cognitoAccessClaims({ issuer: ISSUER, clientId: 'benchclient', groups: ['users'] }), signer.privateKey);

  const build = (positiveTtlMs: number) => {
    const tokens = new TokenVerifier({ cognito: { userPoolId: POOL_ID, clientIds: ['benchclient'], tokenUse: 'access' }, issuers: [], fetcher: new BoundedJwksFetcher(1000) });
    tokens.jwksCache.addJwks(`${ISSUER}/.well-known/jwks.json`, { keys: [signer.jwk] });
    return createAuthorizer({
      mode: 'enforce',
      anonymousScopes: [],
      keys: new ApiKeyVerifier({ store, peppers, environment: 'test' }),
      tokens,
      cache: new DecisionCache({ maxEntries: 1000, positiveTtlMs, negativeTtlMs: 0 }),
      log: silent,
    });
  };
  const cached = build(5000);
  const uncached = build(0);
  const keyEvent = authorizerEvent({ headers: { 'X-API-Key': key } });
  const jwtEvent = authorizerEvent({ headers: { Authorization: `Bearer ${jwt}` } });

  const [h, p, s] = jwt.split('.') as [string, string, string];
  const publicKey = createPublicKey({ key: signer.jwk, format: 'jwk' });
  const signed = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');

  const results: Measurement[] = [];
  results.push(await measure('bare crypto.verify (RS256, floor)', () => cryptoVerify('RSA-SHA256', signed, publicKey, signature)));
  results.push(await measure('JWT via authorizer, cache miss (full verify)', () => uncached(jwtEvent)));
  results.push(await measure('JWT via authorizer, cache hit', () => cached(jwtEvent)));
  results.push(await measure('API key via authorizer, cache hit', () => cached(keyEvent)));
  results.push(await measure('API key via authorizer, cache miss (1 dynalite GetItem)', () => uncached(keyEvent), { batch: 20, batches: 100, warmup: 200 }));
  await dynamo.stop();

  const floor = results[0]!.medianNs;
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, node ${process.version}${process.env.NODE_EXTRA_CA_CERTS ? ', NODE_EXTRA_CA_CERTS set' : ''}`);
  console.log('| case | median | p99 | × bare crypto.verify |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${formatNs(r.medianNs)} | ${formatNs(r.p99Ns)} | ${(r.medianNs / floor).toFixed(2)} |`);
}

await main();
