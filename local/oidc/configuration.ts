// The oidc-provider configuration that makes its tokens look like Amazon Cognito's.
import type {
  Account,
  Client,
  Configuration,
  IssuedToken,
  KoaContextWithOIDC,
  ResourceServerInfo,
} from 'oidc-provider';
import type * as OidcModule from 'oidc-provider';

import { errorPage, logoutPage, PAGE_HEADERS, signedOutPage } from './html.js';
import { createMemoryAdapter } from './memory-adapter.js';
import type { ResolvedUser, Settings } from './settings.js';

const DAY = 24 * 60 * 60;

/** Claims Cognito puts in both a person's access token and ID token; empty groups are omitted, as Cognito does. */
function personClaims(user: ResolvedUser): Record<string, unknown> {
  return {
    ...(user.groups.length ? { 'cognito:groups': user.groups } : {}),
    ...(user.tenant === undefined ? {} : { 'custom:tenant': user.tenant }),
  };
}

/** Cognito's access-token header is just { kid, alg }: drop the RFC 9068 `typ: at+jwt` oidc-provider sets. */
function cognitoHeader(_ctx: unknown, _token: unknown, jwt: { header?: Record<string, unknown> }): void {
  jwt.header = { typ: undefined };
}

function isLoopbackHttp(uri: string): boolean {
  const url = URL.parse(uri);
  return url?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export function buildConfiguration(settings: Settings, lib: typeof OidcModule): Configuration {
  const { machineClient, loginClient, consoleClient, resourceIndicator } = settings;
  const personClients = new Set([loginClient.clientId, ...(consoleClient ? [consoleClient.clientId] : [])]);
  // The console calls the token endpoint from its page: the origins of its own URLs, for its client only.
  const consoleOrigins = new Set((consoleClient?.redirectUris ?? []).map((uri) => new URL(uri).origin));
  const usersBySub = new Map(settings.users.map((user) => [user.sub, user]));
  // People's access tokens carry `openid` in `scope` next to the resource-server scopes, as Cognito's do.
  const loginScopes = [...settings.scopes, 'openid'].join(' ');

  function getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string, client: Client): ResourceServerInfo {
    if (indicator !== resourceIndicator) throw new lib.errors.InvalidTarget();
    const isMachine = client.clientId === machineClient.clientId;
    const scope = isMachine ? machineClient.scopes.join(' ') : loginScopes;
    // Cognito grants every allowed scope when a client-credentials request names none; oidc-provider would
    // grant none. This hook runs before the grant reads `scope`, so default the parameter here.
    const params = ctx.oidc.params;
    if (isMachine && params?.grant_type === 'client_credentials' && !params.scope) params.scope = scope;
    return {
      scope,
      // oidc-provider refuses to issue a JWT access token without `aud`; Cognito's have none. Use the
      // resource server id so verifiers can pin it (LocalOidc.resourceServerId).
      audience: settings.resourceServerId,
      accessTokenTTL: settings.accessTokenTtlSeconds,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    };
  }

  function findAccount(_ctx: KoaContextWithOIDC, sub: string): Account | undefined {
    const user = usersBySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      // Only ID tokens are built from these (userinfo is off); claim names are allow-listed under `claims`.
      claims: () => ({ sub, token_use: 'id', 'cognito:username': user.username, ...personClaims(user) }),
    };
  }

  function extraTokenClaims(_ctx: KoaContextWithOIDC, token: IssuedToken): Record<string, unknown> {
    const user = token.accountId === undefined ? undefined : usersBySub.get(token.accountId);
    // `client_id`, `sub`, `scope`, `jti`, `iat`, `exp` come from oidc-provider's JWT format itself.
    return { token_use: 'access', ...(user ? { username: user.username, ...personClaims(user) } : {}) };
  }

  return {
    clients: [
      {
        client_id: machineClient.clientId,
        client_secret: machineClient.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted as well
      },
      {
        client_id: loginClient.clientId,
        client_name: 'the Gatehouse command line', // the sign-in page says what the person signs in to
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: loginClient.redirectUris,
        // "native" makes oidc-provider ignore the port of loopback http redirect URIs (RFC 8252 §7.3).
        application_type: loginClient.redirectUris.every(isLoopbackHttp) ? 'native' : 'web',
      },
      ...(consoleClient
        ? [
            {
              client_id: consoleClient.clientId,
              client_name: 'the Gatehouse console',
              token_endpoint_auth_method: 'none' as const,
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              // A web client: its URLs match exactly (as Cognito's callback and sign-out URLs do), port included.
              application_type: 'web' as const,
              redirect_uris: consoleClient.redirectUris,
              post_logout_redirect_uris: consoleClient.redirectUris,
            },
          ]
        : []),
    ],
    clientBasedCORS: (_ctx: KoaContextWithOIDC, origin: string, client: Client) => consoleClient !== undefined && client.clientId === consoleClient.clientId && consoleOrigins.has(origin),
    jwks: { keys: [settings.signingKey] },
    adapter: createMemoryAdapter(),
    // Cognito's paths, so code that derives `${issuer}/.well-known/jwks.json` works against this too.
    routes: {
      authorization: '/oauth2/authorize',
      token: '/oauth2/token',
      jwks: '/.well-known/jwks.json',
      end_session: '/logout',
    },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub', 'token_use', 'cognito:username', 'cognito:groups', 'custom:tenant'],
    },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false }, // it accepts any password; interactions.ts checks them
      clientCredentials: { enabled: true },
      // Sign-out ends the provider's session (Cognito's /logout does the same), behind a plain confirmation form.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.set(PAGE_HEADERS);
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.set(PAGE_HEADERS);
          ctx.body = signedOutPage();
        },
      },
      userinfo: { enabled: false }, // otherwise an `openid` code grant yields an opaque userinfo-only token
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceIndicator, // clients never send `resource`, like Cognito's
        useGrantedResource: () => true,
        getResourceServerInfo,
      },
    },
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 implements
    findAccount,
    extraTokenClaims,
    formats: { customizers: { jwt: cognitoHeader } },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // Cognito issues a refresh token with every code grant and does not rotate it by default.
    issueRefreshToken: (_ctx: KoaContextWithOIDC, client: Client) => personClients.has(client.clientId),
    rotateRefreshToken: false,
    expiresWithSession: () => false,
    ttl: {
      AccessToken: settings.accessTokenTtlSeconds,
      ClientCredentials: settings.accessTokenTtlSeconds,
      IdToken: settings.accessTokenTtlSeconds,
      AuthorizationCode: 300,
      RefreshToken: 30 * DAY,
      Interaction: 60 * 60,
      Session: DAY,
      Grant: 30 * DAY,
    },
    // The default page loads a web font from the internet; keep errors local and plain.
    renderError: (ctx: KoaContextWithOIDC, out: Record<string, unknown>) => {
      ctx.type = 'html';
      ctx.set(PAGE_HEADERS);
      ctx.body = errorPage(out);
    },
  };
}
