/**
 * How a request gets its credential. An {@link Authenticator} is asked before every attempt (so signatures carry
 * a fresh date and tokens are refreshed when they expire); credentials go into headers only, never the URL.
 */
import { GatehouseCredentialsError } from './errors.js';

/** A request about to be sent; authenticators add headers to it. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  /** The exact bytes that will be sent (SigV4 signs their hash). */
  readonly body: string | undefined;
}

export interface AuthContext {
  /** True after a 401 with this authenticator: get a new token instead of a cached one. */
  readonly forceRefresh: boolean;
}

export interface Authenticator {
  readonly kind: 'api_key' | 'bearer' | 'sigv4' | 'none';
  apply(request: OutgoingRequest, context: AuthContext): Promise<void>;
  /** When true, a 401 is answered by one more attempt with `forceRefresh` (any method: a 401 did nothing). */
  readonly canRefresh?: boolean;
}

export const noAuth: Authenticator = { kind: 'none', apply: () => Promise.resolve() };

function checkHeaderValue(value: string, what: string): string {
  const trimmed = value.trim();
  // Never echo the value: it is a secret.
  if (trimmed === '' || /[\s\0]/.test(trimmed)) throw new GatehouseCredentialsError(`The ${what} is empty or contains whitespace.`);
  return trimmed;
}

/**
 * A Gatehouse API key, sent as `Authorization: Bearer <key>` (default) or `X-API-Key: <key>`.
 */
export function apiKeyAuth(key: string, options: { header?: 'authorization' | 'x-api-key' } = {}): Authenticator {
  const value = checkHeaderValue(key, 'API key');
  const header = options.header ?? 'authorization';
  return {
    kind: 'api_key',
    apply(request) {
      if (header === 'authorization') request.headers.set('authorization', `Bearer ${value}`);
      else request.headers.set('x-api-key', value);
      return Promise.resolve();
    },
  };
}

/** Something that hands out access tokens, refreshing them as needed. */
export interface TokenProvider {
  getToken(options: { forceRefresh: boolean }): Promise<string>;
}

/** A bearer token: a fixed string, or a {@link TokenProvider} that refreshes (then a 401 triggers one refresh). */
export function bearerAuth(token: string | TokenProvider): Authenticator {
  const provider: TokenProvider = typeof token === 'string' ? { getToken: () => Promise.resolve(token) } : token;
  return {
    kind: 'bearer',
    canRefresh: typeof token !== 'string',
    async apply(request, context) {
      const value = checkHeaderValue(await provider.getToken({ forceRefresh: context.forceRefresh }), 'access token');
      request.headers.set('authorization', `Bearer ${value}`);
    },
  };
}
