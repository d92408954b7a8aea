/**
 * SigV4 verification for IAM routes, as API Gateway's AWS_IAM authorization does it, against the local stack's
 * one IAM user (CONTRACT §7 `iam`): region, service `execute-api`, access key id and secret.
 *
 * The request is signed again with @smithy/signature-v4 — the signer the AWS SDKs use — with the request's own
 * date and exactly the headers it says it signed, and the two signatures are compared in constant time.
 * - The body hash is always recomputed: `x-amz-content-sha256` is removed before re-signing, because the signer
 *   would otherwise trust it and a tampered body would pass (FIELD-NOTES). A client that signed that header gets
 *   it back with the hash of the body actually received.
 * - `host` and `x-amz-date` must be signed; the credential scope must be `{date}/{region}/execute-api/aws4_request`
 *   with the same day as `x-amz-date`; the request time must be within 5 minutes of now.
 * - No Authorization header at all: API Gateway answers MISSING_AUTHENTICATION_TOKEN. Anything else that fails —
 *   another scheme, a malformed header, an unknown key, a wrong scope, an expired date, a wrong signature — is its
 *   403 (INVALID_SIGNATURE family).
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { emptyRecord } from './records.js';

export const SIGV4_SERVICE = 'execute-api';
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface LocalIamCredentials {
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** SHA-256 / HMAC-SHA256 for the signer, on node:crypto (the `Checksum` shape @smithy/signature-v4 expects). */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const secret = this.secret;
    const key =
      typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(new Uint8Array(secret));
    return createHmac('sha256', key);
  }
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export type SigV4Failure = 'missing' | 'malformed' | 'unknown_key' | 'bad_scope' | 'expired' | 'session_token' | 'mismatch';

export type SigV4Result = { readonly ok: true; readonly accessKeyId: string } | { readonly ok: false; readonly reason: SigV4Failure };

export interface SignedRequest {
  readonly method: string;
  /** Raw (percent-encoded) path. */
  readonly rawPath: string;
  /** Raw query without `?`. */
  readonly rawQuery: string;
  /** Node's rawHeaders pairs. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const trimmed = value.trim();
  if (!trimmed.startsWith(`${ALGORITHM} `)) return undefined;
  const params = new Map<string, string>();
  for (const part of trimmed.slice(ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) return undefined;
    const name = part.slice(0, eq).trim();
    if (params.has(name)) return undefined;
    params.set(name, part.slice(eq + 1).trim());
  }
  const credential = params.get('Credential')?.split('/');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  if (credential?.length !== 5 || !signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = credential;
  const names = signedHeaders.split(';');
  if (names.some((n) => n === '' || n !== n.toLowerCase())) return undefined;
  return { accessKeyId, date, region, service, terminator, signedHeaders: names, signature };
}

/** `20240101T120000Z` → epoch ms, or undefined. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Query parameters as the signer takes them (decoded; repeated names as lists). `+` stays `+` (SigV4 is not form encoding). */
function signerQuery(rawQuery: string): Record<string, string | string[]> {
  const query = emptyRecord<string | string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = decode(eq === -1 ? '' : pair.slice(eq + 1));
    const existing = query[name];
    query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

/** Signed headers as one value each: repeated headers joined with `,` (SigV4's canonical form). */
function headerValues(rawHeaders: readonly string[]): Map<string, string> {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const list = values.get(name) ?? [];
    list.push((rawHeaders[i + 1] ?? '').trim());
    values.set(name, list);
  }
  return new Map([...values].map(([name, list]) => [name, list.join(',')]));
}

export async function verifySigV4(request: SignedRequest, credentials: LocalIamCredentials, nowMs: number): Promise<SigV4Result> {
  const headers = headerValues(request.rawHeaders);
  const authorization = headers.get('authorization');
  if (authorization === undefined || authorization === '') return { ok: false, reason: 'missing' };
  const parsed = parseAuthorization(authorization);
  if (parsed === undefined) return { ok: false, reason: 'malformed' };

  const amzDate = headers.get('x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedAt === undefined) return { ok: false, reason: 'malformed' };
  if (!parsed.signedHeaders.includes('host') || !parsed.signedHeaders.includes('x-amz-date')) return { ok: false, reason: 'malformed' };
  if (parsed.accessKeyId !== credentials.accessKeyId) return { ok: false, reason: 'unknown_key' };
  if (parsed.date !== amzDate.slice(0, 8) || parsed.region !== credentials.region || parsed.service !== SIGV4_SERVICE || parsed.terminator !== 'aws4_request') {
    return { ok: false, reason: 'bad_scope' };
  }
  if (Math.abs(nowMs - signedAt) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'expired' };
  // The local user has long-term keys only; a session token would belong to someone else's credentials.
  if (headers.has('x-amz-security-token')) return { ok: false, reason: 'session_token' };

  // Exactly the headers the client signed, minus those the signer generates (date) or must recompute (body hash).
  const toSign = emptyRecord<string>();
  for (const name of parsed.signedHeaders) {
    if (name === 'x-amz-date' || name === 'x-amz-content-sha256') continue;
    const value = headers.get(name);
    if (value === undefined) return { ok: false, reason: 'mismatch' };
    toSign[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region: credentials.region,
    service: SIGV4_SERVICE,
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: parsed.signedHeaders.includes('x-amz-content-sha256'),
  });
  const host = headers.get('host') ?? '';
  const resigned = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: host.replace(/:\d+$/, ''),
      path: request.rawPath,
      query: signerQuery(request.rawQuery),
      headers: toSign,
      body: request.body.length === 0 ? undefined : request.body,
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(parsed.signedHeaders) },
  );
  const expected = parseAuthorization(String(resigned.headers.authorization ?? ''));
  if (expected === undefined || expected.signedHeaders.join(';') !== parsed.signedHeaders.join(';')) return { ok: false, reason: 'mismatch' };
  const same = timingSafeEqual(Buffer.from(expected.signature, 'hex'), Buffer.from(parsed.signature, 'hex'));
  return same ? { ok: true, accessKeyId: parsed.accessKeyId } : { ok: false, reason: 'mismatch' };
}
