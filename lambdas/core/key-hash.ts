/**
 * Keyed hashing of API keys. The store holds only HMAC-SHA256(pepper, key): a stolen table is useless
 * without the pepper, which lives in Secrets Manager. Comparison is constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hashApiKey(key: string, pepper: Buffer): string {
  return createHmac('sha256', pepper).update(key, 'utf8').digest('base64url');
}

/** Constant-time equality of two base64url hashes (length is public: always 43 characters). */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
