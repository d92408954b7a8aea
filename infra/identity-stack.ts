/**
 * <prefix>Identity: the Cognito user pool, its clients, resource server and groups (derived from the deployment's
 * scope catalog), and the JWKS mirror (GatehouseIdentity), with their outputs. The construct's id is `Default`, which
 * CDK leaves out of logical ids: the pool keeps the logical id it was created with, so it is never replaced.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IUserPool, UserPoolClient, UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { Api } from '../lambdas/core/api-definition.js';
import type { GatehouseConfig } from './config.js';
import { GatehouseIdentity } from './constructs/identity.js';

export { JWKS_MIRROR_PERIOD, RESOURCE_SERVER_ID } from './constructs/identity.js';

export interface IdentityStackProps extends StackProps {
  readonly config: GatehouseConfig;
  readonly table: ITable;
  /** The deployment's API: its scopes and groups. */
  readonly api: Api;
}

export class IdentityStack extends Stack {
  readonly identity: GatehouseIdentity;
  readonly peopleClient: UserPoolClient;
  readonly machineClient: UserPoolClient;
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.identity = new GatehouseIdentity(this, 'Default', { config, table: props.table, api: props.api });
    // This stack always creates the pool, so the clients and the domain exist.
    this.peopleClient = this.identity.peopleClient!;
    this.machineClient = this.identity.machineClient!;
    this.domain = this.identity.domain!;

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'PeopleClientId', { value: this.peopleClient.userPoolClientId, description: 'Public client: authorization code + PKCE' });
    new CfnOutput(this, 'MachineClientId', {
      value: this.machineClient.userPoolClientId,
      description: 'Confidential client: client credentials (secret: aws cognito-idp describe-user-pool-client)',
    });
    new CfnOutput(this, 'HostedLoginUrl', {
      value: this.domain.signInUrl(this.peopleClient, { redirectUri: config.infra.callbackUrls[0]! }),
      description: 'Managed login (add code_challenge and code_challenge_method=S256 for PKCE)',
    });
    new CfnOutput(this, 'OAuthBaseUrl', { value: this.domain.baseUrl(), description: 'Base of /oauth2/authorize, /oauth2/token, /logout' });
  }

  get userPool(): IUserPool {
    return this.identity.userPool;
  }

  /** GATEHOUSE_COGNITO for the authorizer and the mirror (JSON with deploy-time ids). */
  get cognitoSetting(): string {
    return this.identity.cognitoSetting;
  }
}
