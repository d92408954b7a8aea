/**
 * Redaction for everything that is logged. Two nets: attributes whose NAME says they hold a secret are replaced
 * whole, and any string VALUE is scrubbed of things shaped like a secret (Gatehouse keys, JWTs, Bearer/Basic
 * credentials, AWS signatures), wherever it sits — an error message, a header dump, a URL.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_NAME =
  /^(authorization|proxy-authorization|x-api-key|api[-_]?key|key|plaintext|token|access[-_]?token|id[-_]?token|refresh[-_]?token|password|passwd|secret|client[-_]?secret|pepper|cookie|set-cookie|x-amz-security-token|hash|signature|credentials?)$/i;

const SECRET_VALUE_PATTERNS: readonly RegExp[] = [
  /gth_(?:live|test)_[0-9A-Za-z_]+/g,
  /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /(Signature=)[0-9a-f]{16,}/gi,
];

export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}

export function scrubString(value: string): string {
  let out = value;
  for (const pattern of SECRET_VALUE_PATTERNS) {
    out = out.replace(pattern, (match, prefix?: string) =>
      typeof prefix === 'string' && /^(bearer|basic|signature=)$/i.test(prefix) ? `${prefix}${prefix.endsWith('=') ? '' : ' '}${REDACTED}` : REDACTED,
    );
  }
  return out;
}

/** A JSON.stringify replacer: the shape Powertools' `jsonReplacerFn` takes. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && isSensitiveName(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return scrubString(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Deep copy with secrets removed (for values that are not logged through the replacer, e.g. audit details). */
export function redact<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, redactingReplacer) ?? 'null') as T;
}
