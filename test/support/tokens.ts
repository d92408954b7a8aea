/** Signing test JWTs (Cognito-shaped) with a real RSA key, and crafting the malformed ones attackers send. */
import { createHmac, createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';

export interface TestSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public JWK as a JWKS entry. */
  jwk: { kty: string; kid: string } & Record<string, string>;
  /** PEM of the public key (for the HS256-with-public-key attack). */
  publicPem: string;
}

export function makeSigningKey(kid: string = randomUUID()): TestSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { ...jwk, kty: 'RSA', kid, alg: 'RS256', use: 'sig' },
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

export function signRs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${b64url(signature)}`;
}

export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(createHmac('sha256', secret).update(input).digest())}`;
}

export function unsigned(payload: Record<string, unknown>, alg = 'none'): string {
  return `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.`;
}

/** Claims of an Amazon Cognito user access token. */
export function cognitoAccessClaims(args: {
  issuer: string;
  clientId: string;
  sub?: string;
  username?: string;
  groups?: string[];
  scope?: string;
  ttlSeconds?: number;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: args.sub ?? randomUUID(),
    iss: args.issuer,
    client_id: args.clientId,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: 'access',
    scope: args.scope ?? 'openid',
    auth_time: now,
    iat: now,
    exp: now + (args.ttlSeconds ?? 3600),
    jti: randomUUID(),
    username: args.username ?? 'alice',
    ...(args.groups ? { 'cognito:groups': args.groups } : {}),
    ...args.extra,
  };
}

/** Replaces the payload segment, keeping header and signature: a tampered token. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64url(JSON.stringify(payload))}.${s}`;
}
