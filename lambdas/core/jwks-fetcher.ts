/**
 * Fetching JWKS documents for aws-jwt-verify, and deciding when to fetch them again.
 *
 * - {@link BoundedJwksFetcher}: its default fetcher is https-only; this one also allows plain http, but only to
 *   loopback hosts (the local stack's OIDC provider), and bounds time and size so a slow or hostile JWKS endpoint
 *   cannot hold an authorizer invocation hostage.
 * - {@link JwksRefetchGate}: when a token names a kid the cached JWKS lacks, the JWKS is fetched again (a key
 *   rotation), but at most once per {@link JWKS_MIN_REFETCH_MS} per URI, so forged kids cannot flood the source.
 */
import { KidNotFoundInJwksError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { PenaltyBox } from 'aws-jwt-verify/jwk';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_JWKS_BYTES = 512 * 1024;

export class JwksUriError extends Error {
  constructor(uri: string) {
    super(`JWKS URI must be https, or http on a loopback host: ${uri}`);
    this.name = 'JwksUriError';
  }
}

export function isAllowedJwksUri(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

export function assertAllowedJwksUri(uri: string): void {
  if (!isAllowedJwksUri(uri)) throw new JwksUriError(uri);
}

export class JwksFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksFetchError';
  }
}

export class BoundedJwksFetcher implements Fetcher {
  constructor(private readonly timeoutMs: number) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    assertAllowedJwksUri(uri);
    let response: Response;
    try {
      response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
    } catch (error) {
      throw new JwksFetchError(`JWKS fetch failed: ${uri}`, { cause: error });
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new JwksFetchError(`JWKS fetch answered ${response.status}: ${uri}`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_JWKS_BYTES) {
      await response.body?.cancel();
      throw new JwksFetchError(`JWKS larger than ${MAX_JWKS_BYTES} bytes: ${uri}`);
    }
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_JWKS_BYTES) throw new JwksFetchError(`JWKS larger than ${MAX_JWKS_BYTES} bytes: ${uri}`);
    return body;
  }
}

/**
 * The bound on picking up a rotated key: a token whose kid appeared in the issuer's JWKS (or, with the store
 * source, in the mirrored copy) verifies at most this long after a forged kid made this container refetch that
 * JWKS. Also how often forged kids can make one container refetch one JWKS: once per this period.
 */
export const JWKS_MIN_REFETCH_MS = 1_000;

/**
 * Replaces aws-jwt-verify's SimplePenaltyBox. That box, after a successful fetch that lacked the token's kid,
 * refused every fetch of that JWKS for 10 s with WaitPeriodNotYetEndedJwkError, which reads like a dependency
 * failure: one forged kid turned every other new kid into a 503 for 10 s, with no audit event, and held back a
 * legitimately rotated key just as long.
 *
 * Here, after a fetch that SUCCEEDED and lacked the kid, another fetch of that URI is refused for `minIntervalMs`
 * with KidNotFoundInJwksError — "this kid is not in a JWKS fetched a moment ago": a refused credential (401,
 * audited), never a dependency failure. A fetch that found its kid (a rotation picked up) lifts the gate, as the old
 * box did. aws-jwt-verify registers attempts only after a fetch that succeeded, so a JWKS that cannot be fetched is
 * never gated: each attempt tries again and its error stays a dependency failure. Memory: at most one timestamp per
 * configured JWKS URI.
 */
export class JwksRefetchGate implements PenaltyBox {
  private readonly lackedKidAtMs = new Map<string, number>();
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(options: { minIntervalMs?: number; now?: () => number } = {}) {
    this.minIntervalMs = options.minIntervalMs ?? JWKS_MIN_REFETCH_MS;
    this.now = options.now ?? Date.now;
  }

  wait(jwksUri: string, kid: string): Promise<void> {
    const since = this.lackedKidAtMs.get(jwksUri);
    if (since !== undefined && this.now() - since < this.minIntervalMs) {
      return Promise.reject(new KidNotFoundInJwksError(`JWK for kid "${kid}" not found in the JWKS fetched less than ${this.minIntervalMs} ms ago`));
    }
    return Promise.resolve();
  }

  /** A fetch succeeded and lacked the kid. */
  registerFailedAttempt(jwksUri: string): void {
    this.lackedKidAtMs.set(jwksUri, this.now());
  }

  /** A fetch succeeded and had the kid. */
  registerSuccessfulAttempt(jwksUri: string): void {
    this.lackedKidAtMs.delete(jwksUri);
  }
}
