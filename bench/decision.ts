/**
 * Part 1 — decision time per request, warm, in-process: Gatehouse beside the physical floor (one bare
 * `crypto.verify` of the same token), bare aws-jwt-verify, and the jsonwebtoken + jwks-rsa peer, interleaved in
 * the same run. Then the API-key cache miss against dynalite, counting every request the decisions make.
 * Standalone: `npx tsx bench/decision.ts`.
 */
import { createPublicKey, createVerify, verify as cryptoVerify } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import { safeJsonParse } from 'aws-jwt-verify/safe-json-parse';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { createAuthorizer } from '../lambdas/authorizer/authorizer.js';
import { extractCredential } from '../lambdas/core/credentials.js';
import { credentialCacheKey, DecisionCache } from '../lambdas/core/decision-cache.js';
import { ApiKeyVerifier } from '../lambdas/core/key-verifier.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { buildPolicy } from '../lambdas/core/policy.js';
import { principalToContext } from '../lambdas/core/principal.js';
import { DEFAULT_CLAIMS, principalFromClaims } from '../lambdas/core/token-verifier.js';
import { buildDecisionFixture, CLIENT_ID, ISSUER, POOL_ID, silent } from './fixture.js';
import { compare, formatNs, type Stats } from './measure.js';
import { createPeerAuthorizer, startJwksServer } from './peer.js';
import { whatIfCognitoVerifySync } from './what-if-jwt.js';
import { GATEHOUSE_API } from '../lambdas/routes.js';

export interface DecisionRow extends Stats {
  readonly vsFloor: number;
}

export interface DecisionResults {
  readonly jwt: {
    readonly floor: DecisionRow;
    readonly awsJwtVerify: DecisionRow;
    readonly gatehouseMiss: DecisionRow;
    readonly gatehouseHit: DecisionRow;
    readonly peer: DecisionRow;
    /** The peer's policy and context equal Gatehouse's for this token. */
    readonly samePolicy: boolean;
    /** JWKS requests the peer made while timed (0: it was warm). */
    readonly peerJwksFetchesTimed: number;
    /** DynamoDB requests during the timed JWT decisions (0). */
    readonly storeRequestsTimed: number;
    /** The pieces of a JWT decision, each timed alone (interleaved), to explain the ratios. */
    readonly breakdown: Readonly<Record<BreakdownKey, Stats>>;
  };
  readonly apiKey: {
    readonly hit: DecisionRow;
    /** A miss whose store answers from memory: the authorizer's own work (parse, CRC32, HMAC, policy). */
    readonly missOwnWork: DecisionRow;
    readonly miss: Stats;
    readonly missDecisions: number;
    /** DynamoDB operation → requests received during the timed misses. */
    readonly missStoreOps: Record<string, number>;
    /** Decisions that made other than exactly one GetItem (0). */
    readonly missDeviations: number;
    readonly pepperLoadsTimed: number;
    readonly fetchesTimed: number;
  };
}

export type BreakdownKey =
  | 'floor'
  | 'floorFromToken'
  | 'libraryVerifySync'
  | 'libraryCreateVerify'
  | 'libraryDecompose'
  | 'librarySafeJsonParse'
  | 'plainJsonParse'
  | 'whatIfVerifySync'
  | 'extractCredential'
  | 'cacheKey'
  | 'issuerRead'
  | 'principal'
  | 'policy';

function row(s: Stats, floorNs: number): DecisionRow {
  return { ...s, vsFloor: s.medianNs / floorNs };
}

/** Counts global fetch calls (JWKS downloads would go through it) while the benchmarks run. */
function countFetches(): { count: () => number; restore: () => void } {
  const original = globalThis.fetch;
  let n = 0;
  globalThis.fetch = (...args: Parameters<typeof fetch>) => {
    n++;
    return original(...args);
  };
  return { count: () => n, restore: () => void (globalThis.fetch = original) };
}

export async function runDecision(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<DecisionResults> {
  const log = options.log ?? (() => undefined);
  const f = await buildDecisionFixture();
  const fetches = countFetches();
  try {
    // --- the same token through five deciders ---
    const [h, p, s] = f.jwt.split('.') as [string, string, string];
    const publicKey = createPublicKey({ key: f.signer.jwk, format: 'jwk' });
    const signed = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const bare = CognitoJwtVerifier.create({ userPoolId: POOL_ID, clientId: CLIENT_ID, tokenUse: 'access' });
    bare.cacheJwks({ keys: [f.signer.jwk] });
    const jwks = await startJwksServer({ keys: [f.signer.jwk] });
    const peer = createPeerAuthorizer({ jwksUri: jwks.url, issuer: ISSUER, clientId: CLIENT_ID });

    const ours = await f.uncached(f.jwtEvent);
    const theirs = await peer(f.jwtEvent);
    const strip = (r: APIGatewayAuthorizerResult) => ({ principalId: r.principalId, policyDocument: r.policyDocument, context: r.context });
    const samePolicy = isDeepStrictEqual(strip(ours), strip(theirs));
    if (!cryptoVerify('RSA-SHA256', signed, publicKey, signature)) throw new Error('bench token does not verify');

    const scale = options.quick ? 0.2 : 1;
    log('decision: JWT cases and API-key hit, interleaved…');
    const jwksBefore = jwks.requests();
    f.dynamo.resetCounts();
    const [floor, aws, miss, hit, peerStats, keyHit] = await compare(
      [
        { name: 'bare crypto.verify (floor)', run: () => cryptoVerify('RSA-SHA256', signed, publicKey, signature) },
        { name: 'bare aws-jwt-verify verifySync', run: () => bare.verifySync(f.jwt) },
        { name: 'Gatehouse, JWT, decision-cache miss', run: () => f.uncached(f.jwtEvent) },
        { name: 'Gatehouse, JWT, decision-cache hit', run: () => f.cached(f.jwtEvent) },
        { name: 'peer: jsonwebtoken + jwks-rsa', run: () => peer(f.jwtEvent) },
        { name: 'Gatehouse, API key, decision-cache hit', run: () => f.cached(f.keyEvent) },
      ],
      { warmup: 2000, rounds: Math.round(40 * scale), perRound: 250 },
    );
    const peerJwksFetchesTimed = jwks.requests() - jwksBefore;

    // --- the pieces, each alone: what the library and Gatehouse each add to the floor ---
    log('decision: breakdown of a JWT decision…');
    const payloadText = Buffer.from(p, 'base64').toString('utf8');
    const signingInput = `${h}.${p}`;
    const whatIf = whatIfCognitoVerifySync(bare);
    if (JSON.stringify(whatIf(f.jwt)) !== JSON.stringify(bare.verifySync(f.jwt))) throw new Error('what-if verifier disagrees');
    const claims = bare.verifySync(f.jwt);
    const principal = principalFromClaims(claims, { ...DEFAULT_CLAIMS, catalog: GATEHOUSE_API.scopes })!;
    const pieces: [BreakdownKey, string, () => unknown][] = [
      ['floor', 'crypto.verify, inputs already bytes (the floor)', () => cryptoVerify('RSA-SHA256', signed, publicKey, signature)],
      [
        'floorFromToken',
        'crypto.verify from the token string (bytes + base64url decode included)',
        () => cryptoVerify('RSA-SHA256', Buffer.from(f.jwt.slice(0, f.jwt.lastIndexOf('.'))), publicKey, Buffer.from(f.jwt.slice(f.jwt.lastIndexOf('.') + 1), 'base64url')),
      ],
      ['libraryVerifySync', 'aws-jwt-verify verifySync', () => bare.verifySync(f.jwt)],
      [
        'libraryCreateVerify',
        "aws-jwt-verify's signature step: createVerify().update(string).verify(…, 'base64')",
        () => createVerify('RSA-SHA256').update(signingInput).verify({ key: publicKey, dsaEncoding: 'ieee-p1363' }, s, 'base64'),
      ],
      ['libraryDecompose', "aws-jwt-verify's decomposeUnverifiedJwt (header + payload)", () => decomposeUnverifiedJwt(f.jwt)],
      ['librarySafeJsonParse', "aws-jwt-verify's safeJsonParse of the payload (JSON.parse with a reviver)", () => safeJsonParse(payloadText)],
      ['plainJsonParse', 'plain JSON.parse of the same payload', () => JSON.parse(payloadText) as unknown],
      ['whatIfVerifySync', 'what-if: verifySync with one reviver-free decomposition (bench/what-if-jwt.ts)', () => whatIf(f.jwt)],
      ['extractCredential', 'Gatehouse: credential extraction and shape checks', () => extractCredential(f.jwtEvent.headers, f.jwtEvent.multiValueHeaders)],
      ['cacheKey', 'Gatehouse: SHA-256 of the token (decision-cache key)', () => credentialCacheKey(f.jwt)],
      [
        'issuerRead',
        'Gatehouse: read iss to pick the verifier (base64 + JSON.parse)',
        () => (JSON.parse(Buffer.from(p, 'base64').toString('utf8')) as { iss?: unknown }).iss,
      ],
      ['principal', 'Gatehouse: claims → principal', () => principalFromClaims(claims, { ...DEFAULT_CLAIMS, catalog: GATEHOUSE_API.scopes })],
      [
        'policy',
        'Gatehouse: policy + context',
        () => buildPolicy({ principalId: principal.principalId, methodArn: f.jwtEvent.methodArn, scopes: principal.scopes, routes: GATEHOUSE_API.routes, context: principalToContext(principal) }),
      ],
    ];
    const pieceStats = await compare(
      pieces.map(([, name, run]) => ({ name, run })),
      { warmup: 2000, rounds: Math.round(20 * scale) || 1, perRound: 200 },
    );
    const breakdown = Object.fromEntries(pieces.map(([key], i) => [key, pieceStats[i]!])) as Record<BreakdownKey, Stats>;
    const storeRequestsJwt = f.dynamo.total();
    await jwks.close();

    // --- API key, cache miss, store answered from memory: what the authorizer itself costs on a miss ---
    const record = f.record;
    const memoryAuthorizer = createAuthorizer({
      api: GATEHOUSE_API,
      mode: 'enforce',
      anonymousScopes: [],
      keys: new ApiKeyVerifier({
        store: { get: () => Promise.resolve(record) },
        peppers: new PepperProvider(new StaticPepperSource('bench-pepper-'.padEnd(48, 'x')), { refreshSeconds: 300, maxStaleSeconds: 3600 }),
        environment: 'test',
        scopes: GATEHOUSE_API.scopes,
      }),
      tokens: { verify: () => Promise.reject(new Error('unused')) },
      cache: new DecisionCache({ maxEntries: 10, positiveTtlMs: 0, negativeTtlMs: 0 }),
      log: silent,
    });
    const [ownWork] = await compare([{ name: 'Gatehouse, API key, miss, store in memory', run: () => memoryAuthorizer(f.keyEvent) }], {
      warmup: 2000,
      rounds: Math.round(20 * scale),
      perRound: 250,
    });

    // --- API key, cache miss through dynalite: exactly one GetItem per decision, and nothing else ---
    log('decision: API-key cache miss against dynalite…');
    const pepperBefore = f.pepperSource.loads;
    const fetchesBefore = fetches.count();
    f.dynamo.resetCounts();
    let deviations = 0;
    let last = 0;
    const [keyMiss] = await compare(
      [
        {
          name: 'Gatehouse, API key, decision-cache miss (dynalite GetItem)',
          run: () => f.uncached(f.keyEvent),
          after: () => {
            const now = f.dynamo.ops.get('GetItem') ?? 0;
            if (now - last !== 1 || f.dynamo.total() !== now) deviations++;
            last = now;
          },
        },
      ],
      { warmup: 0, rounds: Math.round(10 * scale) || 1, perRound: 100 },
    );
    const missStoreOps = Object.fromEntries(f.dynamo.ops);
    const floorNs = floor!.medianNs;
    const results: DecisionResults = {
      jwt: {
        floor: row(floor!, floorNs),
        awsJwtVerify: row(aws!, floorNs),
        gatehouseMiss: row(miss!, floorNs),
        gatehouseHit: row(hit!, floorNs),
        peer: row(peerStats!, floorNs),
        samePolicy,
        peerJwksFetchesTimed,
        storeRequestsTimed: storeRequestsJwt,
        breakdown,
      },
      apiKey: {
        hit: row(keyHit!, floorNs),
        missOwnWork: row(ownWork!, floorNs),
        miss: keyMiss!,
        missDecisions: keyMiss!.samples,
        missStoreOps,
        missDeviations: deviations,
        pepperLoadsTimed: f.pepperSource.loads - pepperBefore,
        fetchesTimed: fetches.count() - fetchesBefore,
      },
    };
    return results;
  } finally {
    fetches.restore();
    await f.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runDecision({ quick: process.argv.includes('--quick'), log: (l) => console.error(l) });
  const rows = [r.jwt.floor, r.jwt.awsJwtVerify, r.jwt.gatehouseMiss, r.jwt.gatehouseHit, r.jwt.peer, r.apiKey.hit, r.apiKey.missOwnWork];
  console.log('| case | median | p99 | × floor |\n|---|---|---|---|');
  for (const x of rows) console.log(`| ${x.name} | ${formatNs(x.medianNs)} | ${formatNs(x.p99Ns)} | ${x.vsFloor.toFixed(2)} |`);
  console.log(`| ${r.apiKey.miss.name} | ${formatNs(r.apiKey.miss.medianNs)} | ${formatNs(r.apiKey.miss.p99Ns)} | |`);
  console.log(JSON.stringify({ samePolicy: r.jwt.samePolicy, peerJwks: r.jwt.peerJwksFetchesTimed, ops: r.apiKey.missStoreOps, dev: r.apiKey.missDeviations }));
}
