// A local OpenID provider (the real oidc-provider package) that issues Amazon-Cognito-shaped tokens over
// plain http, for authorizer tests and the `npm start` stack. All tokens are RS256 JWTs with a `kid` from
// `jwksUri`. Claims (header typ of access tokens is `at+jwt`; ID tokens have no typ):
//   machine access (client_credentials): iss, sub (= client id), client_id, aud (= resourceServerId),
//     token_use 'access', scope (qualified; all the client's scopes when none requested), iat, exp, jti
//   person access (authorization code + PKCE, refresh): iss, sub (user), client_id, aud (= resourceServerId),
//     token_use 'access', username, cognito:groups (omitted when empty), custom:tenant (when set),
//     scope (granted qualified scopes + openid), iat, exp, jti
//   person ID: iss, sub, aud (= login client id), token_use 'id', cognito:username, cognito:groups,
//     custom:tenant, at_hash, iat, exp (+ nonce when sent)
import type { JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type * as OidcModule from 'oidc-provider';

import { buildConfiguration } from './configuration.js';
import { createInteractionHandler } from './interactions.js';
import { resolveSettings } from './settings.js';

export interface LocalOidcUser {
  username: string;
  password: string;
  groups: string[];
  /** Defaults to a random UUID, like a Cognito sub. */
  sub?: string;
  /** Emitted as `custom:tenant` in the person's access and ID tokens when set. */
  tenant?: string;
}

export interface LocalOidcOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 'gatehouse'. Scopes are emitted as `${resourceServerId}/${scope}`; also every access token's `aud`. */
  resourceServerId?: string;
  /**
   * Default every scope of Gatehouse's own API (settings.ts DEFAULT_SCOPES); the local stack passes its app's.
   * Given with or without the `${resourceServerId}/` prefix.
   */
  scopes?: string[];
  /** Default alice (groups ['admins']) and bob (groups ['users']) with random strong passwords. */
  users?: LocalOidcUser[];
  /** Defaults: random id and secret, all scopes (with or without prefix; must be among `scopes`). */
  machineClient?: { clientId?: string; clientSecret?: string; scopes?: string[] };
  /** Default redirect URIs ['http://127.0.0.1/callback']; any port matches for loopback http URIs. */
  loginClient?: { clientId?: string; redirectUris?: string[] };
  /**
   * A browser app's public client (the console): its page URLs are its redirect and post-logout URIs, matched
   * exactly, and the token endpoint answers CORS requests from their origins (for this client only). Default none.
   */
  consoleClient?: { clientId?: string; redirectUris: string[] };
  /** Default 3600; also the ID token lifetime. */
  accessTokenTtlSeconds?: number;
  /** A private RSA JWK (RS256); default a fresh 2048-bit key. `kid` defaults to its RFC 7638 thumbprint. */
  signingKey?: JsonWebKey;
}

export interface LocalOidc {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  /** `scopes` are resource-server-qualified, e.g. `gatehouse/items:read`. */
  machineClient: { clientId: string; clientSecret: string; scopes: string[] };
  loginClient: { clientId: string; redirectUris: string[] };
  consoleClient?: { clientId: string; redirectUris: string[] };
  /** RP-initiated logout (OIDC end_session): ends the provider's session, then back to a registered URI. */
  endSessionEndpoint: string;
  users: { username: string; password: string; groups: string[]; sub: string; tenant?: string }[];
  /** The `aud` of every access token (oidc-provider will not sign one without it; Cognito's have none). */
  resourceServerId: string;
  /** Closes the server and every open socket; nothing is left listening. Safe to call twice. */
  close(): Promise<void>;
}

/** The JSON-serialisable part of LocalOidc, as printed by main.ts. */
export type LocalOidcConfig = Omit<LocalOidc, 'close' | 'consoleClient' | 'endSessionEndpoint'>;

export function toLocalOidcConfig(oidc: LocalOidc): LocalOidcConfig {
  const { issuer, jwksUri, tokenEndpoint, authorizationEndpoint, machineClient, loginClient, users, resourceServerId } =
    oidc;
  return { issuer, jwksUri, tokenEndpoint, authorizationEndpoint, machineClient, loginClient, users, resourceServerId };
}

/**
 * oidc-provider prints "Unsupported runtime" on import under Node 20 (it works; FIELD-NOTES). Import it
 * lazily with that one line filtered, so test and CLI output stay clean.
 */
/* eslint-disable no-console -- patches console.warn around one import and restores it */
async function loadOidcProvider(): Promise<typeof OidcModule> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].includes('Unsupported runtime'))) warn.apply(console, args);
  };
  try {
    return await import('oidc-provider');
  } finally {
    console.warn = warn;
  }
}
/* eslint-enable no-console */

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets (fetch pools them) would otherwise hold close() open.
    server.closeAllConnections();
  });
}

export async function startLocalOidc(options: LocalOidcOptions = {}): Promise<LocalOidc> {
  const [settings, lib] = await Promise.all([resolveSettings(options), loadOidcProvider()]);

  // The issuer must contain the real port, so listen first and install the provider once it exists.
  let handler = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => handler(req, res));
  await listen(server, settings.port, settings.host);

  let provider: OidcModule.default;
  try {
    const { port } = server.address() as AddressInfo;
    provider = new lib.Provider(`http://${urlHost(settings.host)}:${port}`, buildConfiguration(settings, lib));
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  provider.proxy = false; // trust no X-Forwarded-* headers; everything is direct plain http
  provider.on('server_error', (_ctx, error) => {
    process.stderr.write(`local-oidc server_error: ${error.stack ?? error.message}\n`);
  });

  const oidcCallback = provider.callback();
  const interactions = createInteractionHandler(provider, settings.users);
  handler = (req, res) => {
    interactions(req, res)
      .then((handled) => (handled ? undefined : oidcCallback(req, res)))
      .catch((error: unknown) => {
        process.stderr.write(`local-oidc request failed: ${String(error)}\n`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };

  let closing: Promise<void> | undefined;
  return {
    issuer: provider.issuer,
    jwksUri: provider.urlFor('jwks'),
    tokenEndpoint: provider.urlFor('token'),
    authorizationEndpoint: provider.urlFor('authorization'),
    machineClient: { ...settings.machineClient, scopes: [...settings.machineClient.scopes] },
    loginClient: { ...settings.loginClient, redirectUris: [...settings.loginClient.redirectUris] },
    ...(settings.consoleClient ? { consoleClient: { ...settings.consoleClient, redirectUris: [...settings.consoleClient.redirectUris] } } : {}),
    endSessionEndpoint: provider.urlFor('end_session'),
    users: settings.users.map((user) => ({ ...user, groups: [...user.groups] })),
    resourceServerId: settings.resourceServerId,
    close: () => (closing ??= closeServer(server)),
  };
}
