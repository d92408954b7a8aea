/**
 * Finds the credential in a request's headers (CONTRACT §1). Pure: no verification, only shape.
 *
 * - `Authorization: Bearer <credential>` or `X-API-Key: <credential>`; header names case-insensitive,
 *   the scheme too (RFC 9110 §11.1).
 * - Both present: accepted only when they carry the same credential.
 * - A header given more than once (multi-value) is refused: which copy would count is ambiguous.
 * - Over 8 KB: refused before any parsing.
 * - Query strings are never looked at.
 */
import { looksLikeApiKey } from './api-key.js';

export const MAX_CREDENTIAL_BYTES = 8 * 1024;

export type CredentialKind = 'api_key' | 'jwt';

export type CredentialRefusal =
  | 'unsupported_scheme'
  | 'conflicting_credentials'
  | 'duplicate_header'
  | 'oversize'
  | 'empty'
  | 'malformed';

export type ExtractedCredential =
  | { readonly kind: CredentialKind; readonly value: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly reason: CredentialRefusal };

type HeaderMap = Readonly<Record<string, string | undefined>> | null | undefined;
type MultiHeaderMap = Readonly<Record<string, readonly string[] | undefined>> | null | undefined;

/** Three base64url segments; the signature may not be empty (an unsigned JWT is never a credential). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function lookup(headers: HeaderMap, multi: MultiHeaderMap, lowerName: string): { value?: string; duplicated: boolean } {
  let value: string | undefined;
  let seen = 0;
  if (headers) {
    for (const name in headers) {
      if (name.length === lowerName.length && name.toLowerCase() === lowerName) {
        seen++;
        value = headers[name];
      }
    }
  }
  let duplicated = seen > 1;
  if (multi) {
    for (const name in multi) {
      if (name.length === lowerName.length && name.toLowerCase() === lowerName && (multi[name]?.length ?? 0) > 1) duplicated = true;
    }
  }
  return value === undefined ? { duplicated } : { value, duplicated };
}

function tooLong(value: string): boolean {
  // UTF-8 may use up to 4 bytes per UTF-16 unit; only measure exactly near the limit.
  return value.length > MAX_CREDENTIAL_BYTES || (value.length * 3 > MAX_CREDENTIAL_BYTES && Buffer.byteLength(value) > MAX_CREDENTIAL_BYTES);
}

export function classifyCredential(value: string): CredentialKind | undefined {
  if (looksLikeApiKey(value)) return 'api_key';
  if (JWT_SHAPE.test(value)) return 'jwt';
  return undefined;
}

export function extractCredential(headers: HeaderMap, multiValueHeaders?: MultiHeaderMap): ExtractedCredential {
  const auth = lookup(headers, multiValueHeaders, 'authorization');
  const apiKey = lookup(headers, multiValueHeaders, 'x-api-key');
  if (auth.duplicated || apiKey.duplicated) return { kind: 'refused', reason: 'duplicate_header' };
  if ((auth.value !== undefined && tooLong(auth.value)) || (apiKey.value !== undefined && tooLong(apiKey.value))) {
    return { kind: 'refused', reason: 'oversize' };
  }

  let fromAuthorization: string | undefined;
  if (auth.value !== undefined && auth.value.trim() !== '') {
    const match = /^[ \t]*bearer[ \t]+(\S+)[ \t]*$/i.exec(auth.value);
    if (!match) return { kind: 'refused', reason: 'unsupported_scheme' };
    fromAuthorization = match[1];
  }
  // HTTP's optional white space only (RFC 9110 §5.6.3): String.trim would also strip NBSP and other Unicode spaces,
  // so one key padded differently would be a fresh rate-limit key to WAF (which cannot trim) yet still accepted.
  const fromApiKey = apiKey.value?.replace(/^[ \t]+|[ \t]+$/g, '');

  if (fromAuthorization === undefined && (fromApiKey === undefined || fromApiKey === '')) {
    // Present but blank headers are a refused credential, not an absent one.
    return auth.value !== undefined || apiKey.value !== undefined ? { kind: 'refused', reason: 'empty' } : { kind: 'none' };
  }
  if (fromAuthorization !== undefined && fromApiKey !== undefined && fromApiKey !== '' && fromApiKey !== fromAuthorization) {
    return { kind: 'refused', reason: 'conflicting_credentials' };
  }
  const value = (fromAuthorization ?? fromApiKey)!;
  const kind = classifyCredential(value);
  // X-API-Key carries API keys only; a token there is a client mistake worth refusing, not guessing at.
  if (!kind || (kind === 'jwt' && fromAuthorization === undefined)) return { kind: 'refused', reason: 'malformed' };
  return { kind, value };
}
