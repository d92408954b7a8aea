/**
 * Identity: the Cognito user pool people sign in to (managed login v2), its clients, the `gatehouse` resource server
 * carrying the contract's scopes, the groups that grant them — and the JWKS mirror that gets the pool's (and every
 * OIDC issuer's) signing keys to an authorizer that has no route to the internet.
 *
 * Why a mirror and not a NAT gateway or an endpoint: the authorizer runs in isolated subnets so that it cannot reach
 * the internet at all (a NAT gateway would give every function internet egress and cost per AZ-hour); Cognito's
 * PrivateLink endpoint covers the user-pool API but not the JWKS, and the JWKS of other OIDC issuers are on the
 * public internet by definition. So one small function outside the VPC, holding nothing but a PutItem limited to
 * JWKS items, fetches and validates the documents every 5 minutes and at deploy time, and the authorizer reads them
 * from DynamoDB through the gateway endpoint (lambdas/core/jwks-store.ts).
 */
import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, type StackProps, Aws } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  UserPoolGroup,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { JWKS_PK_PREFIX } from '../lambdas/core/jwks-store.js';
import { ALL_SCOPES, GROUP_SCOPES, ADMIN_GROUP } from '../lambdas/core/scopes.js';
import { MIRROR_SETTINGS } from '../lambdas/jwks-mirror/mirror.js';
import { retention, type GatehouseConfig } from './config.js';
import { GatehouseFunction } from './function.js';
import { settingsEnvironment } from './function-env.js';
import { acknowledge } from './nag.js';
import { GatehouseProvider } from './provider.js';

/** The resource server's identifier: token scopes read `gatehouse/<scope>` (CONTRACT §2). */
export const RESOURCE_SERVER_ID = 'gatehouse';
export const JWKS_MIRROR_PERIOD = Duration.minutes(5);

export interface IdentityStackProps extends StackProps {
  readonly config: GatehouseConfig;
  readonly table: ITable;
}

export class IdentityStack extends Stack {
  readonly userPool: UserPool;
  readonly peopleClient: UserPoolClient;
  readonly machineClient: UserPoolClient;
  readonly domain: UserPoolDomain;
  /** GATEHOUSE_COGNITO for the authorizer and the mirror (JSON with deploy-time ids). */
  readonly cognitoSetting: string;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { config, table } = props;
    const { infra } = config;

    this.userPool = new UserPool(this, 'UserPool', {
      featurePlan: FeaturePlan.ESSENTIALS,
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
      mfa: { off: Mfa.OFF, optional: Mfa.OPTIONAL, required: Mfa.REQUIRED }[infra.mfa],
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.userPool, 'AwsSolutions-COG8', 'cognitoPlusTier');
    if (infra.mfa !== 'required') acknowledge(this.userPool, 'AwsSolutions-COG2', 'cognitoMfaOptional');

    const resourceServer = new UserPoolResourceServer(this, 'ResourceServer', {
      userPool: this.userPool,
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'Gatehouse API',
      scopes: ALL_SCOPES.map((scope) => new ResourceServerScope({ scopeName: scope, scopeDescription: `Gatehouse ${scope}` })),
    });
    const apiScopes = ALL_SCOPES.map((scope) =>
      OAuthScope.resourceServer(resourceServer, new ResourceServerScope({ scopeName: scope, scopeDescription: `Gatehouse ${scope}` })),
    );

    // People: authorization code with PKCE through managed login. A public client (no secret: a CLI or a browser app
    // cannot keep one), never the implicit flow. Cognito has no switch that makes PKCE mandatory; the Gatehouse
    // clients always send a code_challenge (S256).
    this.peopleClient = this.userPool.addClient('PeopleClient', {
      userPoolClientName: 'gatehouse-people',
      generateSecret: false,
      authFlows: { user: false, userPassword: false, userSrp: false, adminUserPassword: false, custom: false },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE, ...apiScopes],
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

    // Machines: client credentials with a secret, holding every resource-server scope (their tokens carry only
    // resource-server scopes; the authorizer maps them 1:1).
    this.machineClient = this.userPool.addClient('MachineClient', {
      userPoolClientName: 'gatehouse-machine',
      generateSecret: true,
      authFlows: { user: false, userPassword: false, userSrp: false, adminUserPassword: false, custom: false },
      oAuth: { flows: { clientCredentials: true, authorizationCodeGrant: false, implicitCodeGrant: false }, scopes: apiScopes },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(60),
    });
    this.peopleClient.node.addDependency(resourceServer);
    this.machineClient.node.addDependency(resourceServer);

    // Groups grant scopes (lambdas/core/scopes.ts); admins first so their precedence wins in cognito:groups order.
    Object.keys(GROUP_SCOPES)
      .sort((a, b) => Number(b === ADMIN_GROUP) - Number(a === ADMIN_GROUP))
      .forEach((groupName, precedence) => {
        new UserPoolGroup(this, `Group-${groupName}`, {
          userPool: this.userPool,
          groupName,
          precedence,
          description: `Gatehouse scopes: ${GROUP_SCOPES[groupName]!.join(' ')}`,
        });
      });

    this.domain = this.userPool.addDomain('HostedLogin', {
      cognitoDomain: { domainPrefix: infra.domainPrefix ?? `gatehouse-${Aws.ACCOUNT_ID}` },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    // Managed login v2 shows "Login pages unavailable" for a client without a branding style.
    const branding = new CfnManagedLoginBranding(this, 'LoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.peopleClient.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    branding.node.addDependency(this.domain);

    this.cognitoSetting = Stack.of(this).toJsonString({
      userPoolId: this.userPool.userPoolId,
      clientIds: [this.peopleClient.userPoolClientId, this.machineClient.userPoolClientId],
      tokenUse: 'access',
      // Only `<this id>/<scope>` counts as a Gatehouse scope: another resource server's `x/keys:write` does not.
      resourceServerId: RESOURCE_SERVER_ID,
    });

    // The JWKS mirror (see the file comment). Outside the VPC by design; its only data permission is writing JWKS items.
    const mirror = new GatehouseFunction(this, 'JwksMirror', {
      entry: 'lambdas/jwks-mirror/handler.ts',
      description: 'JWKS mirror: copies issuer JWKS into the table for the VPC-bound authorizer',
      logRetention: retention(infra.logRetentionDays),
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: settingsEnvironment(MIRROR_SETTINGS, config, { tableName: table.tableName, cognito: this.cognitoSetting }),
    });
    mirror.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${JWKS_PK_PREFIX}*`] } },
      }),
    );
    new Rule(this, 'JwksMirrorSchedule', {
      description: 'Gatehouse: refresh the mirrored JWKS',
      schedule: Schedule.rate(JWKS_MIRROR_PERIOD),
      targets: [new LambdaFunction(mirror.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
    });
    const provider = new GatehouseProvider(this, 'JwksMirrorProvider', { onEventHandler: mirror.fn, logRetention: retention(infra.logRetentionDays) });
    new CustomResource(this, 'InitialJwks', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GatehouseJwksMirror',
      // Re-runs whenever the issuer configuration changes.
      properties: { Cognito: this.cognitoSetting, OidcIssuers: JSON.stringify(config.settings.oidcIssuers.map((i) => i.jwksUri)) },
    });

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'PeopleClientId', { value: this.peopleClient.userPoolClientId, description: 'Public client: authorization code + PKCE' });
    new CfnOutput(this, 'MachineClientId', {
      value: this.machineClient.userPoolClientId,
      description: 'Confidential client: client credentials (secret: aws cognito-idp describe-user-pool-client)',
    });
    new CfnOutput(this, 'HostedLoginUrl', {
      value: this.domain.signInUrl(this.peopleClient, { redirectUri: infra.callbackUrls[0]! }),
      description: 'Managed login (add code_challenge and code_challenge_method=S256 for PKCE)',
    });
    new CfnOutput(this, 'OAuthBaseUrl', { value: this.domain.baseUrl(), description: 'Base of /oauth2/authorize, /oauth2/token, /logout' });
  }
}
