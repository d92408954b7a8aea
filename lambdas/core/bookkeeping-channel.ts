/**
 * The durable channel for the authorizer's bookkeeping (usage counts, refused-credential events): structured log
 * lines. A line written to stdout before the invocation returns is delivered by Lambda even if the container is then
 * frozen or reaped — which a DynamoDB write started after the response is not. (On Linux a write to a pipe is
 * synchronous in Node.js: when `process.stdout.write` returns, the line is in the runtime's log pipe.) A CloudWatch
 * Logs subscription filter on the authorizer's log group hands the lines to the bookkeeper function
 * (`lambdas/bookkeeper/handler.ts`), which aggregates each batch and writes the table. The allow path gains no store
 * round trip: one short line per request.
 *
 * Shared by the authorizer (writer), the bookkeeper (reader), CDK (the subscription filter) and the local stack
 * (which feeds the same lines to the same bookkeeper code).
 *
 * No credential reaches a line by construction: a usage line holds the key's public id, its tenant and a time; a
 * refusal line holds the refusal's reason, kinds, the public id (only if it has the id's shape), the owner tenant,
 * the source IP, a client certificate's serial number and subject (never the certificate), the method and the path
 * — the path scrubbed of anything credential-shaped and clipped.
 */
import { isKeyId } from './api-key.js';
import { scrubString } from './redact.js';

/** The field every bookkeeping line carries; its value is the record kind. */
export const BOOKKEEPING_FIELD = 'gatehouseRecord';

export const BOOKKEEPING_KINDS = ['usage', 'refusal'] as const;
export type BookkeepingKind = (typeof BOOKKEEPING_KINDS)[number];

/** The CloudWatch Logs subscription filter pattern that selects bookkeeping lines and nothing else. */
export const BOOKKEEPING_FILTER_PATTERN = `{ ${BOOKKEEPING_KINDS.map((k) => `($.${BOOKKEEPING_FIELD} = "${k}")`).join(' || ')} }`;

/** One allowed API-key request. `at`: epoch milliseconds. */
export interface UsageRecord {
  readonly kind: 'usage';
  readonly keyId: string;
  readonly tenant: string;
  readonly at: number;
}

/** One refused (or, in audit mode, missing) credential: the authorizer's RefusalEvent and when it happened. */
export interface RefusalRecord {
  readonly kind: 'refusal';
  readonly reason: string;
  readonly credentialKind: 'api_key' | 'jwt' | 'certificate' | 'none' | 'unknown';
  readonly keyId?: string;
  readonly tenant?: string;
  readonly sourceIp?: string;
  /** The request's client certificate (mutual TLS): serial number (hex) and subject (RFC 4514). */
  readonly certificateSerial?: string;
  readonly certificateSubject?: string;
  readonly method: string;
  readonly path: string;
  readonly mode: 'enforce' | 'audit' | 'off';
  readonly outcome: 'denied' | 'allowed_anonymous';
  readonly at: number;
}

export type BookkeepingRecord = UsageRecord | RefusalRecord;

/** Where the authorizer's lines go: stdout in Lambda; the local stack and tests pass their own. */
export type LineWriter = (line: string) => void;

export const stdoutLineWriter: LineWriter = (line) => {
  process.stdout.write(line);
};

const MAX_REASON = 64;
const MAX_METHOD = 16;
const MAX_SOURCE_IP = 64;
/** A serial number is at most 20 bytes (RFC 5280 §4.1.2.2): 40 hex digits. */
const MAX_CERTIFICATE_SERIAL = 40;
const MAX_CERTIFICATE_SUBJECT = 256;
/** Paths are clipped here; the audit event keeps at most 256 characters of it anyway. */
export const MAX_LINE_PATH = 256;
/** Tenants are at most 256 UTF-8 bytes (tenant.ts); a line never carries a longer one. */
const MAX_TENANT_CHARS = 256;
const CREDENTIAL_KINDS: ReadonlySet<string> = new Set(['api_key', 'jwt', 'certificate', 'none', 'unknown']);
const MODES: ReadonlySet<string> = new Set(['enforce', 'audit', 'off']);
const OUTCOMES: ReadonlySet<string> = new Set(['denied', 'allowed_anonymous']);

const clip = (value: string, max: number): string => (value.length > max ? value.slice(0, max) : value);

/**
 * The usage line of one allowed API-key request (with its newline). Built by hand, as it is on every allowed key
 * request; both strings are escaped by JSON.stringify.
 */
export function usageLine(keyId: string, tenant: string, atMs: number): string {
  return `{"${BOOKKEEPING_FIELD}":"usage","keyId":${JSON.stringify(keyId)},"tenant":${JSON.stringify(tenant)},"at":${Math.trunc(atMs)}}\n`;
}

/** What the authorizer knows of a refusal (its RefusalEvent, structurally: core does not import the authorizer). */
export interface RefusalFacts {
  readonly reason: string;
  readonly credentialKind: string;
  readonly keyId?: string;
  readonly tenant?: string;
  readonly sourceIp?: string;
  readonly certificate?: { readonly serial: string; readonly subject: string };
  readonly method: string;
  readonly path: string;
  readonly mode: string;
  readonly outcome: string;
}

/** The refusal line (with its newline): never a credential, bounded in length. */
export function refusalLine(refusal: RefusalFacts, atMs: number): string {
  const record: Record<string, string | number> = {
    [BOOKKEEPING_FIELD]: 'refusal',
    reason: clip(scrubString(refusal.reason), MAX_REASON),
    credentialKind: CREDENTIAL_KINDS.has(refusal.credentialKind) ? refusal.credentialKind : 'unknown',
  };
  if (refusal.keyId !== undefined && isKeyId(refusal.keyId)) record.keyId = refusal.keyId;
  if (refusal.tenant !== undefined) record.tenant = clip(refusal.tenant, MAX_TENANT_CHARS);
  if (refusal.sourceIp !== undefined) record.sourceIp = clip(scrubString(refusal.sourceIp), MAX_SOURCE_IP);
  if (refusal.certificate !== undefined) {
    record.certificateSerial = clip(refusal.certificate.serial.replace(/[^0-9A-Fa-f]/g, ''), MAX_CERTIFICATE_SERIAL) || 'unknown';
    record.certificateSubject = clip(scrubString(refusal.certificate.subject), MAX_CERTIFICATE_SUBJECT);
  }
  record.method = clip(scrubString(refusal.method), MAX_METHOD);
  // Scrub before clipping, so that clipping can never cut a credential into a shape the scrubber misses.
  record.path = clip(scrubString(refusal.path), MAX_LINE_PATH);
  record.mode = refusal.mode;
  record.outcome = refusal.outcome;
  record.at = Math.trunc(atMs);
  return `${JSON.stringify(record)}\n`;
}

const isString = (value: unknown, max: number): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;
const isInstantMs = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 253_402_300_799_999;
const optional = (value: unknown, max: number): boolean => value === undefined || isString(value, max);

/**
 * A bookkeeping record from one log message, or undefined when the message is not a well-formed line (the reader
 * trusts nothing: every field is checked against what the writer can produce).
 */
export function parseBookkeepingLine(message: string): BookkeepingRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (v[BOOKKEEPING_FIELD] === 'usage') {
    if (typeof v.keyId !== 'string' || !isKeyId(v.keyId) || !isString(v.tenant, MAX_TENANT_CHARS) || !isInstantMs(v.at)) return undefined;
    return { kind: 'usage', keyId: v.keyId, tenant: v.tenant, at: v.at };
  }
  if (v[BOOKKEEPING_FIELD] === 'refusal') {
    if (
      !isString(v.reason, MAX_REASON) ||
      typeof v.credentialKind !== 'string' ||
      !CREDENTIAL_KINDS.has(v.credentialKind) ||
      !(v.keyId === undefined || (typeof v.keyId === 'string' && isKeyId(v.keyId))) ||
      !optional(v.tenant, MAX_TENANT_CHARS) ||
      !optional(v.sourceIp, MAX_SOURCE_IP) ||
      !optional(v.certificateSerial, MAX_CERTIFICATE_SERIAL) ||
      !optional(v.certificateSubject, MAX_CERTIFICATE_SUBJECT) ||
      !isString(v.method, MAX_METHOD) ||
      !(typeof v.path === 'string' && v.path.length <= MAX_LINE_PATH) ||
      typeof v.mode !== 'string' ||
      !MODES.has(v.mode) ||
      typeof v.outcome !== 'string' ||
      !OUTCOMES.has(v.outcome) ||
      !isInstantMs(v.at)
    ) {
      return undefined;
    }
    return {
      kind: 'refusal',
      reason: v.reason,
      credentialKind: v.credentialKind as RefusalRecord['credentialKind'],
      ...(typeof v.keyId === 'string' ? { keyId: v.keyId } : {}),
      ...(v.tenant === undefined ? {} : { tenant: v.tenant as string }),
      ...(v.sourceIp === undefined ? {} : { sourceIp: v.sourceIp as string }),
      ...(v.certificateSerial === undefined ? {} : { certificateSerial: v.certificateSerial as string }),
      ...(v.certificateSubject === undefined ? {} : { certificateSubject: v.certificateSubject as string }),
      method: v.method,
      path: v.path,
      mode: v.mode as RefusalRecord['mode'],
      outcome: v.outcome as RefusalRecord['outcome'],
      at: v.at,
    };
  }
  return undefined;
}
