/**
 * Crafting JWTs the way an attacker does: any header, any payload text (duplicate keys included), any algorithm,
 * any signature bytes. Nothing here verifies anything.
 */
import { constants, createHmac, createSign, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';

export const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
export const fromB64url = (value: string): string => Buffer.from(value, 'base64url').toString('utf8');

export type Alg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

export interface LabKey {
  readonly kid: string;
  readonly alg: Alg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Public JWK as it would appear in a JWKS. */
  readonly jwk: { kty: string; kid: string } & Record<string, string>;
  readonly publicPem: string;
  readonly publicDer: Buffer;
}

function labKey(kid: string, alg: Alg, pair: { privateKey: KeyObject; publicKey: KeyObject }): LabKey {
  const jwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return {
    kid,
    alg,
    ...pair,
    jwk: { ...jwk, kty: jwk.kty ?? '', kid, alg, use: 'sig' },
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicDer: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

export const rsaKey = (kid: string = randomUUID()): LabKey => labKey(kid, 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }));
export const ecKey = (kid: string = randomUUID()): LabKey => labKey(kid, 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
export const edKey = (kid: string = randomUUID()): LabKey => labKey(kid, 'EdDSA', generateKeyPairSync('ed25519'));

/** Signature bytes over `input` with `alg` (the key must fit the algorithm; HS* take a secret). */
export function signatureOf(alg: Alg, input: string, key: KeyObject | string | Buffer): Buffer {
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
      return createSign(`RSA-SHA${alg.slice(2)}`).update(input).sign(key);
    case 'PS256':
      return createSign('RSA-SHA256').update(input).sign({ key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256':
      return createSign('SHA256').update(input).sign({ key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return cryptoSign(null, Buffer.from(input), key);
    case 'HS256':
    case 'HS384':
    case 'HS512':
      return createHmac(`sha${alg.slice(2)}`, key).update(input).digest();
  }
}

/** header and payload given as JSON TEXT (so duplicate keys and odd spacing survive), signed with `alg`. */
export function signText(headerJson: string, payloadJson: string, alg: Alg, key: KeyObject | string | Buffer): string {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  return `${input}.${b64url(signatureOf(alg, input, key))}`;
}

export function sign(header: Record<string, unknown>, payload: Record<string, unknown>, alg: Alg, key: KeyObject | string | Buffer): string {
  return signText(JSON.stringify(header), JSON.stringify(payload), alg, key);
}

/** Signs with a lab key, its kid and alg in the header unless the header says otherwise. */
export function signWith(key: LabKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return sign({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }, payload, key.alg, key.privateKey);
}

export function parts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; h: string; p: string; s: string } {
  const [h = '', p = '', s = ''] = token.split('.');
  return { header: JSON.parse(fromB64url(h)) as Record<string, unknown>, payload: JSON.parse(fromB64url(p)) as Record<string, unknown>, h, p, s };
}

/** Keeps header and signature, replaces the payload: a tampered token. */
export function withPayloadText(token: string, payloadJson: string): string {
  const { h, s } = parts(token);
  return `${h}.${b64url(payloadJson)}.${s}`;
}

export function withHeader(token: string, header: Record<string, unknown>): string {
  const { p, s } = parts(token);
  return `${b64url(JSON.stringify(header))}.${p}.${s}`;
}

/** Same signature BYTES, different base64url text: flips the unused low bits of the last character. */
export function nonCanonicalSignature(token: string): string | undefined {
  const { h, p, s } = parts(token);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes = Buffer.from(s, 'base64url');
  const unusedBits = (s.length * 6) % 8;
  if (unusedBits === 0) return undefined;
  const last = alphabet.indexOf(s[s.length - 1]!);
  const variant = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
  return Buffer.from(variant, 'base64url').equals(bytes) ? `${h}.${p}.${variant}` : undefined;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
