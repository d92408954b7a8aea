/**
 * Page tokens of the stores that page by one id: base64url(JSON `{"v":1,"after":"<id>"}`). Only a position
 * travels, never a tenant or a key, so a token replayed by another tenant reads that tenant's own data. A token
 * is accepted only in the exact form this module mints.
 */
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;

export function encodePageToken(afterId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterId }), 'utf8').toString('base64url');
}

/** The id a page token continues after, or undefined when the token is not one this module minted for such ids. */
export function decodePageToken(token: string, isId: (value: string) => boolean): string | undefined {
  if (!TOKEN_RE.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) return undefined; // not canonical: not ours
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { v, after, ...rest } = parsed as Record<string, unknown>;
  if (v !== 1 || typeof after !== 'string' || !isId(after) || Object.keys(rest).length > 0) return undefined;
  return after;
}
