// Turns LocalOidcOptions into fully-defaulted settings; everything random is generated here, once.
import { randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';

import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { resolveSigningKey } from './keys.js';
import type { LocalOidcOptions } from './provider.js';

/**
 * Without `scopes`: every scope of Gatehouse's own API (lambdas/routes.ts), derived, never listed here. The local
 * stack passes the scopes of the app it serves instead.
 */
export const DEFAULT_SCOPES: readonly string[] = GATEHOUSE_API.scopes.all;

export interface ResolvedUser {
  username: string;
  password: string;
  groups: string[];
  sub: string;
  tenant?: string;
}

export interface Settings {
  host: string;
  port: number;
  resourceServerId: string;
  /** RFC 8707 resource indicator oidc-provider binds access tokens to (never seen by clients). */
  resourceIndicator: string;
  /** Resource-server-qualified scopes, e.g. `gatehouse/items:read`. */
  scopes: string[];
  users: ResolvedUser[];
  machineClient: { clientId: string; clientSecret: string; scopes: string[] };
  loginClient: { clientId: string; redirectUris: string[] };
  consoleClient?: { clientId: string; redirectUris: string[] };
  accessTokenTtlSeconds: number;
  signingKey: JsonWebKey;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lower-case alphanumerics like Cognito app-client ids (32 symbols, so no modulo bias). */
function randomId(length: number): string {
  return Array.from(randomBytes(length), (byte) => BASE32[byte % 32]).join('');
}

/** Long and random, with every character class so it would also pass Cognito's default password policy. */
function randomPassword(): string {
  return `${randomBytes(18).toString('base64url')}Aa1-`;
}

/** oidc-provider only accepts absolute URIs as resource indicators; Cognito ids may be plain words. */
function toResourceIndicator(resourceServerId: string): string {
  return URL.canParse(resourceServerId) ? resourceServerId : `urn:local-oidc:${encodeURIComponent(resourceServerId)}`;
}

export async function resolveSettings(options: LocalOidcOptions = {}): Promise<Settings> {
  const resourceServerId = options.resourceServerId ?? 'gatehouse';
  // Accept scopes with or without the prefix so callers can pass either `items:read` or `gatehouse/items:read`.
  const qualify = (scope: string): string =>
    scope.startsWith(`${resourceServerId}/`) ? scope : `${resourceServerId}/${scope}`;
  const scopes = [...new Set((options.scopes ?? DEFAULT_SCOPES).map(qualify))];

  const machineScopes = (options.machineClient?.scopes ?? scopes).map(qualify);
  const unknown = machineScopes.filter((scope) => !scopes.includes(scope));
  if (unknown.length) throw new TypeError(`machineClient.scopes not among the configured scopes: ${unknown.join(' ')}`);

  const users = (
    options.users ?? [
      { username: 'alice', password: randomPassword(), groups: ['admins'] },
      { username: 'bob', password: randomPassword(), groups: ['users'] },
    ]
  ).map(({ username, password, groups, sub, tenant }) => ({
    username,
    password,
    groups: [...groups],
    sub: sub ?? randomUUID(), // Cognito subs are UUIDs
    ...(tenant === undefined ? {} : { tenant }),
  }));
  const names = new Set(users.map((user) => user.username));
  if (names.size !== users.length) throw new TypeError('usernames must be unique');
  if (users.some((user) => !user.username || !user.password)) throw new TypeError('users need a username and password');

  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    resourceServerId,
    resourceIndicator: toResourceIndicator(resourceServerId),
    scopes,
    users,
    machineClient: {
      clientId: options.machineClient?.clientId ?? randomId(26),
      clientSecret: options.machineClient?.clientSecret ?? randomBytes(36).toString('base64url'),
      scopes: [...new Set(machineScopes)],
    },
    loginClient: {
      clientId: options.loginClient?.clientId ?? randomId(26),
      redirectUris: [...(options.loginClient?.redirectUris ?? ['http://127.0.0.1/callback'])],
    },
    ...(options.consoleClient
      ? { consoleClient: { clientId: options.consoleClient.clientId ?? randomId(26), redirectUris: [...options.consoleClient.redirectUris] } }
      : {}),
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    signingKey: await resolveSigningKey(options.signingKey),
  };
}
