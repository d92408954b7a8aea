/**
 * GatehouseConsoleSignIn: the browser console's own app client on the deployment's user pool, and the sign-in
 * settings its function serves the page (GATEHOUSE_CONSOLE_SIGN_IN).
 *
 * Why a client of its own, created with the API and not on the people client: a client's callback and sign-out URLs
 * must name the console's URL, which exists only once the REST API does (the Api stack), while the people client is
 * created with the pool (the Identity stack). Registering the URL on the people client would make the Identity stack
 * depend on the Api stack that already depends on it — a cycle. A client in the Api stack only references the pool,
 * its domain and its resource server (exports of the Identity stack). It is also narrower: it serves one URL, asks
 * for people's scopes only, and can be removed with the console.
 *
 * A public client (a browser cannot keep a secret): authorization code with PKCE through managed login (the console
 * always sends an S256 code_challenge), never the implicit flow, the same token lifetimes as the people client.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { CfnManagedLoginBranding, OAuthScope, UserPoolClient, UserPoolClientIdentityProvider } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { ConsoleSignIn } from '../../lambdas/api/console/sign-in.js';
import type { CognitoTokenIssuer } from './identity.js';

export interface GatehouseConsoleSignInProps {
  /** The pool, its managed-login domain and its resource server (GatehouseIdentity.cognito). */
  readonly issuer: CognitoTokenIssuer & { readonly domain: NonNullable<CognitoTokenIssuer['domain']> };
  /** The Gatehouse scopes people may hold (the groups' scopes): the console asks for exactly these. */
  readonly scopes: readonly string[];
  /** The console page's URL: its callback and its sign-out URL. */
  readonly consoleUrl: string;
}

export class GatehouseConsoleSignIn extends Construct {
  readonly client: UserPoolClient;
  /** GATEHOUSE_CONSOLE_SIGN_IN for the console function (JSON with deploy-time values). */
  readonly setting: string;

  constructor(scope: Construct, id: string, props: GatehouseConsoleSignInProps) {
    super(scope, id);
    const { issuer, consoleUrl } = props;
    const resourceScopes = props.scopes.map((s) => `${issuer.resourceServerId}/${s}`);
    this.client = new UserPoolClient(this, 'Client', {
      userPool: issuer.userPool,
      userPoolClientName: 'gatehouse-console',
      generateSecret: false,
      authFlows: { user: false, userPassword: false, userSrp: false, adminUserPassword: false, custom: false },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE, ...resourceScopes.map((s) => OAuthScope.custom(s))],
        callbackUrls: [consoleUrl],
        logoutUrls: [consoleUrl],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(60),
      idTokenValidity: Duration.minutes(60),
      refreshTokenValidity: Duration.hours(12),
      authSessionValidity: Duration.minutes(5),
    });
    if (issuer.resourceServer) this.client.node.addDependency(issuer.resourceServer);
    // Managed login v2 shows "Login pages unavailable" for a client without a branding style.
    const branding = new CfnManagedLoginBranding(this, 'LoginBranding', {
      userPoolId: issuer.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    branding.node.addDependency(issuer.domain);

    const base = issuer.domain.baseUrl();
    const signIn: ConsoleSignIn = {
      kind: 'cognito',
      authorizationEndpoint: `${base}/oauth2/authorize`,
      tokenEndpoint: `${base}/oauth2/token`,
      logoutEndpoint: `${base}/logout`,
      clientId: this.client.userPoolClientId,
      scopes: ['openid', 'email', 'profile', ...resourceScopes],
    };
    this.setting = Stack.of(this).toJsonString(signIn);
  }
}
