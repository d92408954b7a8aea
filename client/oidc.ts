/**
 * OAuth 2.0 for a native app (RFC 8252): authorization code with PKCE S256 (RFC 7636) through the system browser
 * and a loopback redirect on 127.0.0.1, then the refresh_token grant. Works with the Cognito managed login and the
 * local OIDC provider alike (public client: no client secret).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { TokenProvider } from './auth.js';
import { GatehouseClientError, GatehouseCredentialsError } from './errors.js';

export interface OidcClientConfig {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  /** Requested at login, e.g. `openid gatehouse/keys:read …`. */
  scopes: readonly string[];
}

/** Tokens as stored; `expiresAt` is epoch milliseconds. */
export interface TokenSet {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  tokenType: string;
  scope?: string;
  expiresAt: number;
}

/** The authorization server refused, or the login did not complete. `error` is the OAuth error code. */
export class OidcError extends GatehouseClientError {
  constructor(
    readonly error: string,
    readonly description?: string,
  ) {
    super(description ? `${error}: ${description}` : error);
  }
}

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** 32 random bytes → a 43-character verifier; the challenge is its SHA-256, base64url. */
export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), method: 'S256' };
}

export function randomState(): string {
  return randomBytes(16).toString('base64url');
}

export function buildAuthorizeUrl(config: OidcClientConfig, params: { redirectUri: string; state: string; pkce: Pkce }): URL {
  const url = new URL(config.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: params.redirectUri,
    scope: config.scopes.join(' '),
    state: params.state,
    code_challenge: params.pkce.challenge,
    code_challenge_method: params.pkce.method,
  }).toString();
  return url;
}

/** `authorization_endpoint` and `token_endpoint` from the issuer's discovery document. */
export async function discoverEndpoints(issuer: string, fetchImpl: typeof fetch = fetch): Promise<{ authorizationEndpoint: string; tokenEndpoint: string }> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new OidcError('discovery_failed', `could not reach ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new OidcError('discovery_failed', `${url} answered ${response.status}`);
  const doc = (await response.json()) as { authorization_endpoint?: unknown; token_endpoint?: unknown };
  if (typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string') {
    throw new OidcError('discovery_failed', `${url} names no authorization_endpoint/token_endpoint`);
  }
  return { authorizationEndpoint: doc.authorization_endpoint, tokenEndpoint: doc.token_endpoint };
}

async function tokenRequest(tokenEndpoint: string, form: Record<string, string>, fetchImpl: typeof fetch, now: () => number): Promise<TokenSet> {
  let response: Response;
  try {
    response = await fetchImpl(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new OidcError('token_endpoint_unreachable', `${tokenEndpoint}: ${(error as Error).message}`);
  }
  let json: Record<string, unknown>;
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    throw new OidcError('invalid_response', `the token endpoint answered ${response.status} without JSON`);
  }
  if (!response.ok || typeof json.error === 'string') {
    throw new OidcError(typeof json.error === 'string' ? json.error : `http_${response.status}`, typeof json.error_description === 'string' ? json.error_description : undefined);
  }
  const { access_token, id_token, refresh_token, token_type, scope, expires_in } = json;
  if (typeof access_token !== 'string' || access_token === '') throw new OidcError('invalid_response', 'no access_token in the token response');
  if (typeof token_type === 'string' && token_type.toLowerCase() !== 'bearer') throw new OidcError('invalid_response', `unsupported token_type ${token_type}`);
  const lifetime = typeof expires_in === 'number' && Number.isFinite(expires_in) && expires_in > 0 ? expires_in : 3600;
  return {
    accessToken: access_token,
    ...(typeof id_token === 'string' ? { idToken: id_token } : {}),
    ...(typeof refresh_token === 'string' ? { refreshToken: refresh_token } : {}),
    tokenType: 'Bearer',
    ...(typeof scope === 'string' ? { scope } : {}),
    expiresAt: now() + lifetime * 1000,
  };
}

export function exchangeCode(
  config: Pick<OidcClientConfig, 'tokenEndpoint' | 'clientId'>,
  params: { code: string; redirectUri: string; verifier: string },
  options: { fetch?: typeof fetch; now?: () => number } = {},
): Promise<TokenSet> {
  return tokenRequest(
    config.tokenEndpoint,
    { grant_type: 'authorization_code', client_id: config.clientId, code: params.code, redirect_uri: params.redirectUri, code_verifier: params.verifier },
    options.fetch ?? fetch,
    options.now ?? Date.now,
  );
}

/** The refresh_token grant. Cognito does not return a new refresh token: the old one is kept. */
export async function refreshTokens(
  config: Pick<OidcClientConfig, 'tokenEndpoint' | 'clientId'>,
  refreshToken: string,
  options: { fetch?: typeof fetch; now?: () => number } = {},
): Promise<TokenSet> {
  const fresh = await tokenRequest(
    config.tokenEndpoint,
    { grant_type: 'refresh_token', client_id: config.clientId, refresh_token: refreshToken },
    options.fetch ?? fetch,
    options.now ?? Date.now,
  );
  return { ...fresh, refreshToken: fresh.refreshToken ?? refreshToken };
}

/** Claims of a JWT, unverified: for display only (who is logged in), never for a decision. */
export function unverifiedClaims(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (!payload) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The person's name as the tokens tell it (Cognito: `cognito:username` in the ID token, `username` in access). */
export function usernameOf(tokens: Pick<TokenSet, 'accessToken' | 'idToken'>): string | undefined {
  const id = unverifiedClaims(tokens.idToken);
  const access = unverifiedClaims(tokens.accessToken);
  for (const value of [id['cognito:username'], access.username, id.email, id.sub, access.sub]) {
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

// -------------------------------------------------------------------------------------------------------------
// The loopback redirect receiver
// -------------------------------------------------------------------------------------------------------------

export interface LoopbackReceiver {
  /** The redirect URI to send, e.g. `http://127.0.0.1:53123/callback`. */
  readonly redirectUri: string;
  /** Resolves with the code once a redirect with the right state arrives; rejects on an error redirect or timeout. */
  readonly code: Promise<string>;
  close(): Promise<void>;
}

export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:0/callback';

const PAGE = (title: string, text: string) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A loopback redirect URI (RFC 8252 §7.3): plain http on 127.0.0.1, [::1] or localhost, no query or fragment.
 * Port 0 (or none) means "any free port". Throws a TypeError naming what is wrong.
 */
export function parseLoopbackRedirect(value: string): { hostname: string; port: number; pathname: string } {
  const url = URL.parse(value);
  if (!url || url.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) {
    throw new TypeError(`The redirect URI must be http://127.0.0.1, http://[::1] or http://localhost with a port and path, not ${value}`);
  }
  if (url.search || url.hash || url.username || url.password) throw new TypeError('The redirect URI must have no query, fragment or user info');
  return { hostname: url.hostname, port: url.port === '' ? 0 : Number(url.port), pathname: url.pathname };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Listens on the loopback interface for the authorization server's redirect. Default
 * `http://127.0.0.1:<any free port>/callback`; Cognito allows only `http://localhost:<fixed port>/…` (listened on
 * 127.0.0.1 and, when available, ::1, whichever the browser resolves). Never on any other interface.
 * A redirect whose `state` does not match is answered 400 and otherwise ignored (someone else's, or forged), so it
 * cannot end the login; the right state with `error=…` ends it with an {@link OidcError}.
 */
export async function startLoopbackReceiver(options: { state: string; redirectUri?: string; port?: number; timeoutMs?: number }): Promise<LoopbackReceiver> {
  const target = parseLoopbackRedirect(options.redirectUri ?? DEFAULT_REDIRECT_URI);
  const wantedPort = options.port ?? target.port;
  const timeoutMs = options.timeoutMs ?? 300_000;
  let resolveCode!: (code: string) => void;
  let rejectCode!: (error: Error) => void;
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  code.catch(() => undefined); // rejections are for whoever awaits `code`; never unhandled

  let settled = false;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, title: string, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
      res.end(PAGE(title, text));
    };
    if (req.method !== 'GET' || url.pathname !== target.pathname) {
      send(404, 'Not found', 'This is the Gatehouse CLI waiting for a sign-in redirect.');
      return;
    }
    if (url.searchParams.get('state') !== options.state) {
      send(400, 'Sign-in not accepted', 'This redirect does not belong to the sign-in the Gatehouse CLI started.');
      return;
    }
    if (settled) {
      send(200, 'Already done', 'You can close this window.');
      return;
    }
    const error = url.searchParams.get('error');
    const received = url.searchParams.get('code');
    if (error !== null || !received) {
      settled = true;
      const description = url.searchParams.get('error_description') ?? undefined;
      send(400, 'Sign-in failed', escapeHtml(description ?? error ?? 'no authorization code'));
      rejectCode(new OidcError(error ?? 'invalid_response', description ?? (error ? undefined : 'the redirect carried no code')));
      return;
    }
    settled = true;
    send(200, 'Signed in to Gatehouse', 'You can close this window and return to the terminal.');
    resolveCode(received);
  };

  const servers: Server[] = [];
  const closeAll = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  let port: number;
  try {
    const primary = createServer(handler);
    servers.push(primary);
    port = await listen(primary, wantedPort, target.hostname === '[::1]' ? '::1' : '127.0.0.1');
    if (target.hostname === 'localhost') {
      // Browsers may resolve localhost to ::1 first; answer there too when this machine has IPv6 loopback.
      const v6 = createServer(handler);
      await listen(v6, port, '::1').then(
        () => servers.push(v6),
        () => undefined,
      );
    }
  } catch (error) {
    await closeAll();
    const { code: errno } = error as NodeJS.ErrnoException;
    if (errno === 'EADDRINUSE') throw new OidcError('port_in_use', `port ${wantedPort} is in use: the login redirect needs it (another login running?)`);
    throw error;
  }

  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    rejectCode(new OidcError('timeout', `no sign-in within ${Math.round(timeoutMs / 1000)} s`));
  }, timeoutMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    redirectUri: `http://${target.hostname}:${port}${target.pathname}`,
    code,
    close() {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        rejectCode(new OidcError('cancelled', 'login was cancelled'));
      }
      return (closing ??= closeAll());
    },
  };
}

// -------------------------------------------------------------------------------------------------------------
// A token provider that refreshes
// -------------------------------------------------------------------------------------------------------------

export interface RefreshingTokenProviderOptions {
  tokens: TokenSet;
  /** Exchanges the refresh token for new tokens. */
  refresh: (refreshToken: string) => Promise<TokenSet>;
  /** Persists refreshed tokens (e.g. the CLI's token file). */
  save?: (tokens: TokenSet) => Promise<void>;
  /** Which token to send: Cognito's access token by default; `id` for APIs configured for ID tokens. */
  use?: 'access' | 'id';
  /** Refresh this long before expiry. Default 60 s. */
  skewMs?: number;
  now?: () => number;
}

/** Hands out the stored token while it is fresh, otherwise refreshes once (concurrent callers share the refresh). */
export class RefreshingTokenProvider implements TokenProvider {
  private tokens: TokenSet;
  private inflight: Promise<TokenSet> | undefined;

  constructor(private readonly options: RefreshingTokenProviderOptions) {
    this.tokens = options.tokens;
  }

  get current(): TokenSet {
    return this.tokens;
  }

  private pick(tokens: TokenSet): string {
    if (this.options.use === 'id') {
      if (!tokens.idToken) throw new GatehouseCredentialsError('The stored login has no ID token; run `gatehouse login` again.');
      return tokens.idToken;
    }
    return tokens.accessToken;
  }

  async getToken({ forceRefresh }: { forceRefresh: boolean }): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (!forceRefresh && this.tokens.expiresAt - (this.options.skewMs ?? 60_000) > now) return this.pick(this.tokens);
    const refreshToken = this.tokens.refreshToken;
    if (!refreshToken) throw new GatehouseCredentialsError('Your login has expired and cannot be refreshed: run `gatehouse login`.');
    this.inflight ??= (async () => {
      try {
        const fresh = await this.options.refresh(refreshToken);
        await this.options.save?.(fresh);
        this.tokens = fresh;
        return fresh;
      } catch (error) {
        if (error instanceof OidcError && error.error === 'invalid_grant') {
          throw new GatehouseCredentialsError('Your login has expired (the refresh token was refused): run `gatehouse login`.', { cause: error });
        }
        throw error;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.pick(await this.inflight);
  }
}
