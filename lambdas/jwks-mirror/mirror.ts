/**
 * The JWKS mirror: fetches every configured issuer's JWKS, refuses anything that is not a public-key JWKS, and
 * stores the rest in the table (lambdas/core/jwks-store.ts), where the VPC-bound authorizer reads it.
 *
 * A document that fails to fetch or validate is not written: the previous copy stays, so a broken or hijacked
 * endpoint can neither wipe the authorizer's keys nor inject a symmetric or private key. Each URI is handled on
 * its own; one failing issuer does not stop the others.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { isJwks, type Jwks } from 'aws-jwt-verify/jwk';
import type { Json } from 'aws-jwt-verify/safe-json-parse';
import { writeJwks } from '../core/jwks-store.js';
import type { SettingsValues } from '../core/settings.js';

/** The settings the mirror reads (environment variables named in settings.ts). */
export const MIRROR_SETTINGS = ['tableName', 'cognito', 'oidcIssuers', 'jwksTimeoutMs'] as const;

/** Every JWKS URI the authorizer's verifiers will ask for, in the exact form they ask (the store's key). */
export function jwksUris(settings: Pick<SettingsValues, 'cognito' | 'oidcIssuers'>): string[] {
  const uris = new Set<string>();
  if (settings.cognito) uris.add(CognitoJwtVerifier.parseUserPoolId(settings.cognito.userPoolId).jwksUri);
  for (const issuer of settings.oidcIssuers) uris.add(issuer.jwksUri);
  return [...uris];
}

export class JwksDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksDocumentError';
  }
}

/** JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Parses and checks a fetched document: JSON, a JWKS by aws-jwt-verify's own definition, at least one key, every
 * key with a `kid` (the verifier selects keys by kid) and none carrying private or symmetric key material.
 * Returns the normalised JSON text to store.
 */
export function validateJwksDocument(body: ArrayBuffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new JwksDocumentError('not JSON');
  }
  if (!isJwks(parsed as Json)) throw new JwksDocumentError('not a JWKS (expected {"keys": [JWK, …]})');
  const jwks = parsed as Jwks;
  if (jwks.keys.length === 0) throw new JwksDocumentError('the JWKS has no keys');
  for (const [i, key] of jwks.keys.entries()) {
    if (typeof key.kid !== 'string' || key.kid === '') throw new JwksDocumentError(`key ${i} has no kid`);
    const leaked = PRIVATE_MEMBERS.filter((m) => m in key);
    if (leaked.length > 0 || key.kty === 'oct') throw new JwksDocumentError(`key ${key.kid} is not a public key`);
  }
  return JSON.stringify(jwks);
}

export interface MirrorDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Fetches a URI (BoundedJwksFetcher in production: https only, time and size bounded, no redirects). */
  readonly fetcher: Fetcher;
  readonly now?: () => number;
}

export type MirrorOutcome =
  | { readonly uri: string; readonly ok: true; readonly stored: boolean; readonly keys: number }
  | { readonly uri: string; readonly ok: false; readonly error: string };

/** Mirrors each URI; never throws for one URI's failure (see the outcomes). */
export async function mirrorJwks(deps: MirrorDeps, uris: readonly string[]): Promise<MirrorOutcome[]> {
  const now = deps.now ?? Date.now;
  return Promise.all(
    uris.map(async (uri): Promise<MirrorOutcome> => {
      try {
        const fetchedAt = new Date(now()).toISOString();
        const text = validateJwksDocument(await deps.fetcher.fetch(uri));
        const stored = await writeJwks(deps.doc, deps.tableName, uri, text, fetchedAt);
        return { uri, ok: true, stored, keys: (JSON.parse(text) as Jwks).keys.length };
      } catch (error) {
        return { uri, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
    }),
  );
}
