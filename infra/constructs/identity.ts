/**
 * GatehouseIdentity: who may hold a token. By default a new Cognito user pool people sign in to (managed login v2),
 * its clients, the `gatehouse` resource server carrying the deployment's scopes (its catalog: each scope with its
 * description), the groups that grant them (the catalog's groups, plus `admins`) — or a pool of the team's
 * (`existingUserPool`, whose clients and resource server the team keeps). And, either way, the JWKS mirror that gets
 * the pool's (and every OIDC issuer's) signing keys to an authorizer that has no route to the internet.
 *
 * Why a mirror and not a NAT gateway or an endpoint: the authorizer runs in isolated subnets so that it cannot reach
 * the internet at all (a NAT gateway would give every function internet egress and cost per AZ-hour); Cognito's
 * PrivateLink endpoint covers the user-pool API but not the JWKS, and the JWKS of other OIDC issuers are on the
 * public internet by definition. So one small function outside the VPC, holding nothing but a PutItem limited to
 * JWKS items, fetches and validates the documents every 5 minutes and at deploy time, and the authorizer reads them
 * from DynamoDB through the gateway endpoint (lambdas/core/jwks-store.ts).
 */
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  UserPoolClientIdentityProvider,
  UserPoolGroup,
  UserPoolResourceServer,
  type IUserPool,
  type UserPoolClient,
  type UserPoolDomain,
  type UserPoolProps,
} from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Api } from '../../lambdas/core/api-definition.js';
import { JWKS_PK_PREFIX } from '../../lambdas/core/jwks-store.js';
import { ADMIN_GROUP } from '../../lambdas/core/scopes.js';
import { readSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_RESOURCE_SERVER_ID } from '../../lambdas/core/token-verifier.js';
import { MIRROR_SETTINGS } from '../../lambdas/jwks-mirror/mirror.js';
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { assertDeployableIssuers, cognitoDomainPrefix, retention, type GatehouseConfig, type OidcIssuerInput } from '../config.js';
import { GatehouseFunction, type GatehouseBundling } from '../function.js';
import { settingsEnvironment } from '../function-env.js';
import { acknowledge } from '../nag.js';
import { GatehouseProvider } from '../provider.js';
import { defaultConfig } from './defaults.js';

/** The resource server's identifier: token scopes read `gatehouse/<scope>` (CONTRACT §2). */
export const RESOURCE_SERVER_ID = DEFAULT_RESOURCE_SERVER_ID;
export const JWKS_MIRROR_PERIOD = Duration.minutes(5);

/**
 * A scheduled run that fails is retried this many times (Lambda's asynchronous retries, and EventBridge's for a
 * delivery that fails), but only while it is younger than {@link JWKS_MIRROR_MAX_EVENT_AGE}: past that the next run
 * is due anyway. Then the event goes to the mirror's dead-letter queue (which the JwksMirrorDeadLetters alarm watches).
 */
export const JWKS_MIRROR_RETRIES = 2;
export const JWKS_MIRROR_MAX_EVENT_AGE = Duration.minutes(4);

/** The Cognito user pool whose access tokens the authorizer accepts, and what a further app client needs to join it. */
export interface CognitoTokenIssuer {
  readonly userPool: IUserPool;
  /** The app clients whose access tokens are accepted. */
  readonly clientIds: readonly string[];
  /** The resource server whose scopes are Gatehouse's (`<id>/<scope>`). */
  readonly resourceServerId: string;
  /** The resource server, when Gatehouse created it (a client asking for its scopes must be created after it). */
  readonly resourceServer?: UserPoolResourceServer;
  /** The managed-login domain, when Gatehouse created the pool: the console's sign-in goes through it. */
  readonly domain?: UserPoolDomain;
}

/** Who issues the tokens the authorizer accepts, as its settings (GATEHOUSE_COGNITO, GATEHOUSE_OIDC_ISSUERS). */
export interface TokenIssuers {
  /** GATEHOUSE_COGNITO: JSON with the pool id, client ids, token use and resource server (deploy-time tokens). */
  readonly cognitoSetting: string;
  /** GATEHOUSE_OIDC_ISSUERS: the JSON array of further OIDC issuers. */
  readonly oidcIssuersSetting: string;
  /**
   * The pool behind `cognitoSetting`. With it (and its domain), GatehouseApi registers the console's own app client on
   * the pool and accepts its tokens too. @default none: the console has no sign-in
   */
  readonly cognito?: CognitoTokenIssuer;
}

/** GATEHOUSE_COGNITO for `issuer`, accepting the tokens of `extraClientIds` too; a JSON string made in `scope`'s stack. */
export function cognitoSettingOf(scope: Construct, issuer: CognitoTokenIssuer, extraClientIds: readonly string[] = []): string {
  return Stack.of(scope).toJsonString({
    userPoolId: issuer.userPool.userPoolId,
    clientIds: [...issuer.clientIds, ...extraClientIds],
    tokenUse: 'access',
    // Only `<this id>/<scope>` counts as a Gatehouse scope: another resource server's `x/keys:write` does not.
    resourceServerId: issuer.resourceServerId,
  });
}

export interface GatehouseIdentityProps {
  /** @default gatehouseConfig() (every default): callbackUrls, logoutUrls, mfa, domainPrefix, oidcIssuers, logRetentionDays */
  readonly config?: GatehouseConfig;
  /** Where the JWKS mirror writes (GatehouseData.table). */
  readonly table: ITable;
  /** The deployment's API: its scopes make the resource server, its groups the pool's groups. @default Gatehouse's own API */
  readonly api?: Api;
  /**
   * A user pool of the team's. Nothing is created in it: its clients (`existingClientIds`) and its resource server
   * (`resourceServerId`) stay the team's. @default a new pool with Gatehouse's clients, resource server and groups
   */
  readonly existingUserPool?: IUserPool;
  /** With existingUserPool: the app client ids whose access tokens are accepted. */
  readonly existingClientIds?: readonly string[];
  /** The resource server whose scopes are Gatehouse's (`<id>/<scope>`). @default 'gatehouse' */
  readonly resourceServerId?: string;
  /** Overrides for the new pool (not with existingUserPool). @default see the construct */
  readonly userPoolProps?: Partial<UserPoolProps>;
  /** Further OIDC issuers whose tokens are accepted (their JWKS are mirrored too). @default config.oidcIssuers */
  readonly oidcIssuers?: readonly OidcIssuerInput[];
  readonly bundling?: GatehouseBundling;
}

export class GatehouseIdentity extends Construct implements TokenIssuers {
  readonly userPool: IUserPool;
  /** Public client: authorization code + PKCE through managed login (new pool only). */
  readonly peopleClient?: UserPoolClient;
  /** Confidential client: client credentials (new pool only). */
  readonly machineClient?: UserPoolClient;
  readonly resourceServer?: UserPoolResourceServer;
  /** Cognito groups by name (new pool only). */
  readonly groups: Readonly<Record<string, UserPoolGroup>>;
  readonly domain?: UserPoolDomain;
  readonly cognitoSetting: string;
  readonly oidcIssuersSetting: string;
  readonly cognito: CognitoTokenIssuer;
  readonly jwksMirror: GatehouseFunction;
  readonly jwksMirrorSchedule: Rule;
  /** Scheduled runs (and deliveries) that failed every retry: encrypted, TLS only, kept 14 days. */
  readonly jwksMirrorDeadLetters: Queue;
  /** The deploy-time JWKS copy (Custom::GatehouseJwksMirror). */
  readonly initialJwks: CustomResource;

  constructor(scope: Construct, id: string, props: GatehouseIdentityProps) {
    super(scope, id);
    const config = props.config ?? defaultConfig();
    const { infra } = config;
    const api = props.api ?? GATEHOUSE_API;
    const resourceServerId = props.resourceServerId ?? RESOURCE_SERVER_ID;
    const oidcIssuersSetting = props.oidcIssuers ? JSON.stringify(props.oidcIssuers) : config.raw.oidcIssuers !== undefined ? rawJson(config.raw.oidcIssuers) : '[]';
    // The same validation the authorizer applies at cold start, now: a bad issuer fails synthesis.
    const { oidcIssuers } = readSettings(['oidcIssuers'], { oidcIssuers: oidcIssuersSetting }, 'context');
    assertDeployableIssuers(oidcIssuers);
    this.oidcIssuersSetting = oidcIssuersSetting;

    const groups: Record<string, UserPoolGroup> = {};
    let clientIds: string[];
    if (props.existingUserPool) {
      if (props.userPoolProps) throw new Error('GatehouseIdentity: pass existingUserPool or userPoolProps, not both');
      if (!props.existingClientIds?.length) throw new Error('GatehouseIdentity: with existingUserPool, pass existingClientIds (the clients whose tokens are accepted)');
      this.userPool = props.existingUserPool;
      clientIds = [...props.existingClientIds];
    } else {
      const mfa = props.userPoolProps?.mfa ?? { off: Mfa.OFF, optional: Mfa.OPTIONAL, required: Mfa.REQUIRED }[infra.mfa];
      const featurePlan = props.userPoolProps?.featurePlan ?? FeaturePlan.ESSENTIALS;
      const pool = new UserPool(this, 'UserPool', {
        featurePlan,
        selfSignUpEnabled: false,
        signInAliases: { username: true, email: true },
        signInCaseSensitive: false,
        autoVerify: { email: true },
        standardAttributes: { email: { required: true, mutable: true } },
        passwordPolicy: {
          minLength: 14,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: AccountRecovery.EMAIL_ONLY,
        deletionProtection: true,
        // Kept when the stack is deleted or the pool replaced; a first create that fails deletes it (no orphan).
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        ...props.userPoolProps,
      });
      this.userPool = pool;
      if (featurePlan !== FeaturePlan.PLUS) acknowledge(pool, 'AwsSolutions-COG8', 'cognitoPlusTier');
      if (mfa !== Mfa.REQUIRED) acknowledge(pool, 'AwsSolutions-COG2', 'cognitoMfaOptional');

      const scopes = api.scopes.all.map((scope) => new ResourceServerScope({ scopeName: scope, scopeDescription: scopeDescription(api, scope) }));
      const resourceServer = new UserPoolResourceServer(this, 'ResourceServer', {
        userPool: pool,
        identifier: resourceServerId,
        userPoolResourceServerName: 'Gatehouse API',
        scopes,
      });
      this.resourceServer = resourceServer;
      const oauthScope = (scope: string) => OAuthScope.resourceServer(resourceServer, scopes.find((s) => s.scopeName === scope)!);
      // People hold what their groups grant: a scope no group holds is no person's to ask for.
      const peopleScopes = api.scopes.forGroups(api.scopes.groups).map(oauthScope);
      // Machines have no groups: their tokens carry exactly the resource-server scopes they ask for.
      const machineScopes = api.scopes.all.map(oauthScope);

      // People: authorization code with PKCE through managed login. A public client (no secret: a CLI or a browser
      // app cannot keep one), never the implicit flow. Cognito has no switch that makes PKCE mandatory; the Gatehouse
      // clients always send a code_challenge (S256).
      this.peopleClient = pool.addClient('PeopleClient', {
        userPoolClientName: 'gatehouse-people',
        generateSecret: false,
        authFlows: { user: false, userPassword: false, userSrp: false, adminUserPassword: false, custom: false },
        oAuth: {
          flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
          scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE, ...peopleScopes],
          callbackUrls: infra.callbackUrls,
          logoutUrls: infra.logoutUrls,
        },
        supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        accessTokenValidity: Duration.minutes(60),
        idTokenValidity: Duration.minutes(60),
        refreshTokenValidity: Duration.days(30),
        authSessionValidity: Duration.minutes(5),
      });

      // Machines: client credentials with a secret, holding every resource-server scope (the authorizer maps them 1:1).
      this.machineClient = pool.addClient('MachineClient', {
        userPoolClientName: 'gatehouse-machine',
        generateSecret: true,
        authFlows: { user: false, userPassword: false, userSrp: false, adminUserPassword: false, custom: false },
        oAuth: { flows: { clientCredentials: true, authorizationCodeGrant: false, implicitCodeGrant: false }, scopes: machineScopes },
        supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        accessTokenValidity: Duration.minutes(60),
      });
      this.peopleClient.node.addDependency(resourceServer);
      this.machineClient.node.addDependency(resourceServer);
      clientIds = [this.peopleClient.userPoolClientId, this.machineClient.userPoolClientId];

      // Groups grant scopes (the catalog); admins first so their precedence wins in cognito:groups order.
      const groupNames = [ADMIN_GROUP, ...api.scopes.groups.filter((g) => g !== ADMIN_GROUP)];
      groupNames.forEach((groupName, precedence) => {
        const held = api.scopes.forGroups([groupName]);
        groups[groupName] = new UserPoolGroup(this, `Group-${groupName}`, {
          userPool: pool,
          groupName,
          precedence,
          description: held.length > 0 ? `Gatehouse scopes: ${held.join(' ')}` : 'Gatehouse administrators (cross-tenant reads)',
        });
      });

      this.domain = pool.addDomain('HostedLogin', {
        cognitoDomain: { domainPrefix: cognitoDomainPrefix(infra) },
        managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
      });
      // Managed login v2 shows "Login pages unavailable" for a client without a branding style.
      const branding = new CfnManagedLoginBranding(this, 'LoginBranding', {
        userPoolId: pool.userPoolId,
        clientId: this.peopleClient.userPoolClientId,
        useCognitoProvidedValues: true,
      });
      branding.node.addDependency(this.domain);
    }
    this.groups = groups;

    this.cognito = {
      userPool: this.userPool,
      clientIds,
      resourceServerId,
      ...(this.resourceServer ? { resourceServer: this.resourceServer } : {}),
      ...(this.domain ? { domain: this.domain } : {}),
    };
    this.cognitoSetting = cognitoSettingOf(this, this.cognito);

    // The JWKS mirror (see the file comment). Outside the VPC by design; its only data permission is writing JWKS items.
    const logRetention = retention(infra.logRetentionDays);
    this.jwksMirrorDeadLetters = new Queue(this, 'JwksMirrorDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.jwksMirror = new GatehouseFunction(this, 'JwksMirror', {
      entry: 'lambdas/jwks-mirror/handler',
      description: 'JWKS mirror: copies issuer JWKS into the table for the VPC-bound authorizer',
      logRetention,
      memorySize: 256,
      timeout: Duration.seconds(30),
      deployment: infra.stackPrefix,
      asyncInvoke: { retryAttempts: JWKS_MIRROR_RETRIES, maxEventAge: JWKS_MIRROR_MAX_EVENT_AGE, deadLetterQueue: this.jwksMirrorDeadLetters },
      ...props.bundling,
      environment: settingsEnvironment(MIRROR_SETTINGS, config, {
        tableName: props.table.tableName,
        cognito: this.cognitoSetting,
        oidcIssuers: oidcIssuersSetting,
      }),
    });
    this.jwksMirror.role.addToPolicy(
      new PolicyStatement({
        // PutItem the fresh copy; GetItem the stored one's age after a failed fetch (the JwksCopyAge metric).
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
        resources: [props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${JWKS_PK_PREFIX}*`] } },
      }),
    );
    this.jwksMirrorSchedule = new Rule(this, 'JwksMirrorSchedule', {
      description: 'Gatehouse: refresh the mirrored JWKS',
      schedule: Schedule.rate(JWKS_MIRROR_PERIOD),
      targets: [
        new LambdaFunction(this.jwksMirror.fn, {
          retryAttempts: JWKS_MIRROR_RETRIES,
          maxEventAge: JWKS_MIRROR_MAX_EVENT_AGE,
          deadLetterQueue: this.jwksMirrorDeadLetters,
        }),
      ],
    });
    const provider = new GatehouseProvider(this, 'JwksMirrorProvider', { onEventHandler: this.jwksMirror.fn, logRetention });
    this.initialJwks = new CustomResource(this, 'InitialJwks', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GatehouseJwksMirror',
      // Re-runs whenever the issuer configuration changes.
      properties: { Cognito: this.cognitoSetting, OidcIssuers: JSON.stringify(oidcIssuers.map((i) => i.jwksUri)) },
    });
  }
}

/** A scope's description for the resource server (Cognito: at most 256 characters). */
function scopeDescription(api: Api, scope: string): string {
  const description = api.scopes.describe(scope) ?? scope;
  return description.length <= 256 ? description : `${description.slice(0, 255)}…`;
}

/** A JSON setting's raw context value in its environment form (function-env.ts keeps JSON settings as given). */
function rawJson(raw: unknown): string {
  return typeof raw === 'string' ? raw : JSON.stringify(raw);
}
