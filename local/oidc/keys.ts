import { createHash, generateKeyPair, type JsonWebKey } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsa = promisify(generateKeyPair);

/** RFC 7638 thumbprint of an RSA key: a stable `kid` when the caller's JWK has none. */
function rsaThumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * The private RS256 signing JWK the provider will use, with `kid`, `alg` and `use` set so the published
 * JWKS carries them (aws-jwt-verify selects the key by `kid` and checks `alg`/`use` when present).
 */
export async function resolveSigningKey(given?: JsonWebKey): Promise<JsonWebKey> {
  let jwk = given;
  if (!jwk) {
    const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
    jwk = privateKey.export({ format: 'jwk' });
  }
  if (jwk.kty !== 'RSA' || typeof jwk.d !== 'string') {
    throw new TypeError('signingKey must be a private RSA JWK');
  }
  const kid = typeof jwk.kid === 'string' && jwk.kid ? jwk.kid : rsaThumbprint(jwk);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}
