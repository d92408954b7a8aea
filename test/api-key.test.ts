import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksumOf,
  generateApiKey,
  KEY_LENGTH,
  KEY_SECRET_LENGTH,
  parseApiKey,
} from '../lambdas/core/api-key.js';
import { BASE62_ALPHABET, encodeBase62Fixed } from '../lambdas/core/base62.js';
import { hashApiKey, hashesEqual } from '../lambdas/core/key-hash.js';

describe('API key format (CONTRACT §1)', () => {
  it('generates gth_<env>_<id>_<secret><checksum> with a 12-char id and ≥256-bit secret', () => {
    const { key, id, env } = generateApiKey('live');
    expect(env).toBe('live');
    expect(key).toMatch(/^gth_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    expect(key.split('_')[2]).toBe(id);
    expect(key).toHaveLength(KEY_LENGTH);
    expect(KEY_SECRET_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(256);
    expect(key).toMatch(/^[A-Za-z0-9_]+$/);
  });

  it('checksum is 6 base62 chars of CRC32 over everything before it', () => {
    const { key } = generateApiKey('test');
    const body = key.slice(0, -6);
    expect(key.slice(-6)).toBe(encodeBase62Fixed(crc32(body), 6));
    expect(checksumOf(body)).toBe(key.slice(-6));
  });

  it('round-trips every generated key', () => {
    for (let i = 0; i < 200; i++) {
      const generated = generateApiKey(i % 2 ? 'live' : 'test');
      const parsed = parseApiKey(generated.key);
      expect(parsed).toEqual({ ok: true, value: generated });
    }
  });

  it('uses every base62 character with no visible bias', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      for (const ch of generateApiKey('test').key.split('_')[3]!.slice(0, KEY_SECRET_LENGTH)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (400 * KEY_SECRET_LENGTH) / 62;
    for (const ch of BASE62_ALPHABET) expect(Math.abs(counts.get(ch)! - expected) / expected).toBeLessThan(0.25);
  });

  it('refuses any single-character change by checksum (never reaching a store)', () => {
    const { key } = generateApiKey('live');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: KEY_LENGTH - 1 }), fc.constantFrom(...BASE62_ALPHABET), (pos, ch) => {
        fc.pre(key[pos] !== ch && key[pos] !== '_' && pos >= 9);
        const changed = key.slice(0, pos) + ch + key.slice(pos + 1);
        const parsed = parseApiKey(changed);
        expect(parsed.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['empty', ''],
    ['truncated', (k: string) => k.slice(0, -1)],
    ['extra character', (k: string) => k + 'a'],
    ['wrong prefix', (k: string) => 'ghp' + k.slice(3)],
    ['unknown environment', (k: string) => k.replace('gth_live_', 'gth_prod_')],
    ['unicode look-alike (Cyrillic a)', (k: string) => k.slice(0, 20) + '\u0430' + k.slice(21)],
    ['whitespace inside', (k: string) => k.slice(0, 20) + ' ' + k.slice(21)],
  ] as const)('refuses a malformed key: %s', (_name, mutate) => {
    const { key } = generateApiKey('live');
    const candidate = typeof mutate === 'string' ? mutate : mutate(key);
    const parsed = parseApiKey(candidate);
    expect(parsed.ok).toBe(false);
  });

  it('a key with the other environment prefix fails the checksum', () => {
    const { key } = generateApiKey('live');
    const parsed = parseApiKey(key.replace('gth_live_', 'gth_test_'));
    expect(parsed).toMatchObject({ ok: false, reason: 'bad_checksum' });
  });
});

describe('keyed hash', () => {
  it('is HMAC-SHA256 with the pepper: another pepper gives another hash', () => {
    const { key } = generateApiKey('live');
    const a = hashApiKey(key, Buffer.from('p'.repeat(32)));
    const b = hashApiKey(key, Buffer.from('q'.repeat(32)));
    expect(a).toHaveLength(43);
    expect(a).not.toBe(b);
    expect(a).not.toContain(key.slice(22));
    expect(hashesEqual(a, a)).toBe(true);
    expect(hashesEqual(a, b)).toBe(false);
    expect(hashesEqual(a, a.slice(1))).toBe(false);
  });
});
