/** Base62 helpers for the API key format. Alphabet order is fixed: changing it breaks every issued key. */
import { randomBytes } from 'node:crypto';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` uniformly random base62 characters. Rejection sampling (bytes ≥ 248 are dropped) keeps
 * every character exactly equiprobable, so n characters carry n·log2(62) ≈ 5.954·n bits.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(Math.ceil((length - out.length) * 1.1) + 4);
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += BASE62_ALPHABET[b % 62];
    }
  }
  return out;
}

/** Fixed-width base62 of a non-negative integer below 62^width (left-padded with '0'). */
export function encodeBase62Fixed(value: number, width: number): string {
  let n = value;
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62_ALPHABET[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  if (n !== 0) throw new RangeError('value does not fit the width');
  return out;
}
