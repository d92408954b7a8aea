/**
 * Fetches JWKS documents for aws-jwt-verify. Its default fetcher is https-only; this one also allows
 * plain http, but only to loopback hosts (the local stack's OIDC provider), and bounds time and size so a
 * slow or hostile JWKS endpoint cannot hold an authorizer invocation hostage.
 */
import type { Fetcher } from 'aws-jwt-verify/https';

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
