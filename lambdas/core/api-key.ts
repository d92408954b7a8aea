/**
 * The API key format (CONTRACT §1): `gth_<env>_<id>_<secret><checksum>`.
 *
 * - `<id>`: 12 base62 characters, public (safe to log and show), the key's primary key in the store.
 * - `<secret>`: 43 base62 characters = 256.03 random bits.
 * - `<checksum>`: 6 base62 characters of CRC32 over everything before it, so that typos and truncated
 *   copies are refused without a store read (and secret scanners can validate candidates offline).
 *
 * Pure functions: no I/O. Parsing never throws; it answers why a string is not a key.
 */
import { crc32 } from 'node:zlib';
import { encodeBase62Fixed, randomBase62 } from './base62.js';

export const KEY_ENVIRONMENTS = ['live', 'test'] as const;
export type KeyEnvironment = (typeof KEY_ENVIRONMENTS)[number];

export const KEY_PREFIX = 'gth_';
export const KEY_ID_LENGTH = 12;
export const KEY_SECRET_LENGTH = 43;
export const KEY_CHECKSUM_LENGTH = 6;
/** `gth_` + `live_` + id + `_` + secret + checksum. Both environments have 4-letter names. */
export const KEY_LENGTH = KEY_PREFIX.length + 5 + KEY_ID_LENGTH + 1 + KEY_SECRET_LENGTH + KEY_CHECKSUM_LENGTH;

const KEY_PATTERN = /^gth_(live|test)_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
const KEY_ID_PATTERN = /^[0-9A-Za-z]{12}$/;

export interface ParsedApiKey {
  readonly env: KeyEnvironment;
  readonly id: string;
  /** The whole key, as presented; what the keyed hash is computed over. */
  readonly key: string;
}

export type ApiKeyParseResult =
  | { readonly ok: true; readonly value: ParsedApiKey }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad_checksum'; readonly id?: string };

export function checksumOf(body: string): string {
  return encodeBase62Fixed(crc32(body), KEY_CHECKSUM_LENGTH);
}

export function generateApiKey(env: KeyEnvironment, id: string = generateKeyId()): ParsedApiKey {
  const body = `${KEY_PREFIX}${env}_${id}_${randomBase62(KEY_SECRET_LENGTH)}`;
  return { env, id, key: body + checksumOf(body) };
}

export function generateKeyId(): string {
  return randomBase62(KEY_ID_LENGTH);
}

export function isKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value);
}

/** True when the string has the key's shape (prefix), used to tell keys from JWTs. */
export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(KEY_PREFIX);
}

export function parseApiKey(value: string): ApiKeyParseResult {
  // The length check first keeps the regex away from oversized input.
  if (value.length !== KEY_LENGTH) return { ok: false, reason: 'malformed' };
  const match = KEY_PATTERN.exec(value);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, env, id, , checksum] = match as unknown as [string, KeyEnvironment, string, string, string];
  if (checksumOf(value.slice(0, -KEY_CHECKSUM_LENGTH)) !== checksum) return { ok: false, reason: 'bad_checksum', id };
  return { ok: true, value: { env, id, key: value } };
}
