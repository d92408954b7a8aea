import { describe, expect, it } from 'vitest';
import { generateApiKey, parseApiKey } from '../lambdas/core/api-key.js';
import { extractCredential, MAX_CREDENTIAL_BYTES } from '../lambdas/core/credentials.js';

const key = generateApiKey('test').key;
const other = generateApiKey('test').key;
const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('credential extraction (CONTRACT §1)', () => {
  it('finds a key in Authorization: Bearer or X-API-Key, header names in any case', () => {
    expect(extractCredential({ Authorization: `Bearer ${key}` })).toEqual({ kind: 'api_key', value: key });
    expect(extractCredential({ authorization: `bearer ${key}` })).toEqual({ kind: 'api_key', value: key });
    expect(extractCredential({ 'X-API-Key': key })).toEqual({ kind: 'api_key', value: key });
    expect(extractCredential({ 'x-api-key': key })).toEqual({ kind: 'api_key', value: key });
    expect(extractCredential({ 'X-Api-KEY': ` ${key} ` })).toEqual({ kind: 'api_key', value: key });
  });

  it('finding 11.10: only HTTP white space (space, tab) is trimmed; a key padded with NBSP or other Unicode spaces is refused', () => {
    expect(extractCredential({ 'X-API-Key': `\t${key} ` })).toEqual({ kind: 'api_key', value: key });
    // Refused here, or passed on with the padding kept (the key's format check then refuses it without a store read):
    // never turned into the bare key.
    const neverTheBareKey = (headers: Record<string, string>) => {
      const result = extractCredential(headers);
      return result.kind === 'refused' || !('value' in result) || (result.value !== key && parseApiKey(result.value).ok === false);
    };
    for (const pad of ['\u00a0', '\u2003', '\u3000', '\ufeff']) {
      expect(neverTheBareKey({ 'X-API-Key': `${pad}${key}` }), JSON.stringify(pad)).toBe(true);
      expect(neverTheBareKey({ 'X-API-Key': `${key}${pad}` }), JSON.stringify(pad)).toBe(true);
      expect(neverTheBareKey({ Authorization: `Bearer ${key}${pad}` }), JSON.stringify(pad)).toBe(true);
    }
  });

  it('tells a JWT from a key by its shape', () => {
    expect(extractCredential({ Authorization: `Bearer ${jwt}` })).toEqual({ kind: 'jwt', value: jwt });
  });

  it('accepts both headers when they agree and refuses them when they differ', () => {
    expect(extractCredential({ Authorization: `Bearer ${key}`, 'X-API-Key': key })).toEqual({ kind: 'api_key', value: key });
    expect(extractCredential({ Authorization: `Bearer ${key}`, 'X-API-Key': other })).toEqual({
      kind: 'refused',
      reason: 'conflicting_credentials',
    });
    expect(extractCredential({ Authorization: `Bearer ${jwt}`, 'X-API-Key': key })).toMatchObject({ reason: 'conflicting_credentials' });
  });

  it('refuses duplicated credential headers', () => {
    expect(extractCredential({ authorization: `Bearer ${key}`, Authorization: `Bearer ${key}` })).toMatchObject({ reason: 'duplicate_header' });
    expect(extractCredential({ 'x-api-key': key }, { 'x-api-key': [key, other] })).toMatchObject({ reason: 'duplicate_header' });
  });

  it('refuses other schemes, empty values and unknown shapes', () => {
    expect(extractCredential({ Authorization: `Basic dXNlcjpwYXNz` })).toMatchObject({ reason: 'unsupported_scheme' });
    expect(extractCredential({ Authorization: `AWS4-HMAC-SHA256 Credential=x` })).toMatchObject({ reason: 'unsupported_scheme' });
    expect(extractCredential({ Authorization: `Bearer` })).toMatchObject({ reason: 'unsupported_scheme' });
    expect(extractCredential({ Authorization: `Bearer a b` })).toMatchObject({ reason: 'unsupported_scheme' });
    expect(extractCredential({ Authorization: '' })).toMatchObject({ reason: 'empty' });
    expect(extractCredential({ 'X-API-Key': '   ' })).toMatchObject({ reason: 'empty' });
    expect(extractCredential({ Authorization: 'Bearer not-a-credential' })).toMatchObject({ reason: 'malformed' });
    expect(extractCredential({ Authorization: 'Bearer a.b.' })).toMatchObject({ reason: 'malformed' });
    expect(extractCredential({ 'X-API-Key': jwt })).toMatchObject({ reason: 'malformed' });
  });

  it('refuses credentials over 8 KB without parsing them', () => {
    const big = 'gth_' + 'a'.repeat(MAX_CREDENTIAL_BYTES);
    expect(extractCredential({ Authorization: `Bearer ${big}` })).toMatchObject({ reason: 'oversize' });
    expect(extractCredential({ 'X-API-Key': big })).toMatchObject({ reason: 'oversize' });
    // Multi-byte characters count by bytes, not UTF-16 units.
    expect(extractCredential({ 'X-API-Key': '€'.repeat(3000) })).toMatchObject({ reason: 'oversize' });
  });

  it('answers none when no credential header is present, ignoring the query string', () => {
    expect(extractCredential({ Accept: 'application/json' })).toEqual({ kind: 'none' });
    expect(extractCredential(null)).toEqual({ kind: 'none' });
  });
});
