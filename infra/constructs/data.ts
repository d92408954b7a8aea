/**
 * GatehouseData: the single DynamoDB table (lambdas/core/table.ts), the pepper and the bootstrap admin key.
 *
 * Everything here is retained when its stack is deleted or the resource replaced: the table (plus deletion protection
 * and point-in-time recovery) because it is the data; the pepper because without it no issued API key can ever verify
 * again; the admin-key secret because it is the way back in. Retained as RetainExceptOnCreate: a first create that
 * fails deletes what it made (nothing was stored yet) instead of leaving orphans, and none has a fixed name, so a
 * redeploy after `cdk destroy --all` creates new ones beside the retained.
 *
 * The bootstrap function runs at deploy time (a custom resource) and issues the admin key: tenant `admin`, every
 * scope of the deployment at decision time. It is bundled with the deployment's API declaration like every other
 * Gatehouse function (the key's scopes come from that catalog).
 */
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption, type TableProps } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Secret, type CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Api } from '../../lambdas/core/api-definition.js';
import { GSI1, TABLE_KEY, TTL_ATTRIBUTE } from '../../lambdas/core/table.js';
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { apiDefinitionDefine } from '../bundle.js';
import { retention, type GatehouseConfig } from '../config.js';
import { GatehouseFunction, type FunctionNetwork, type GatehouseBundling } from '../function.js';
import { settingsEnvironment } from '../function-env.js';
import { acknowledge } from '../nag.js';
import { GatehouseProvider } from '../provider.js';
import { defaultConfig } from './defaults.js';

/** The bootstrap handler reads this variable directly (lambdas/bootstrap/handler.ts). */
export const ADMIN_KEY_SECRET_ENV = 'GATEHOUSE_ADMIN_KEY_SECRET_ID';

/** Table properties a team may change: not the key schema, the index, the TTL attribute or the billing mode. */
export type GatehouseTableProps = Omit<Partial<TableProps>, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute' | 'billingMode'>;

export interface GatehouseDataProps {
  /** @default gatehouseConfig() (every default) */
  readonly config?: GatehouseConfig;
  /** Where the bootstrap function runs (GatehouseNetwork.functionNetwork). */
  readonly network: FunctionNetwork;
  /** The deployment's API (its scope catalog is the admin key's). @default Gatehouse's own API */
  readonly api?: Api;
  /** Overrides for the table. @default on-demand, AWS-managed encryption, PITR, deletion protection, RETAIN_ON_UPDATE_OR_DELETE */
  readonly tableProps?: GatehouseTableProps;
  /** Where the functions are bundled from. @default see GatehouseFunction */
  readonly bundling?: GatehouseBundling;
}

export class GatehouseData extends Construct {
  readonly table: Table;
  readonly pepper: Secret;
  readonly adminKey: Secret;
  readonly bootstrapFunction: GatehouseFunction;
  readonly bootstrapProvider: GatehouseProvider;
  /** The custom resource that issues the admin key (Custom::GatehouseAdminKey). */
  readonly bootstrap: CustomResource;

  constructor(scope: Construct, id: string, props: GatehouseDataProps) {
    super(scope, id);
    const config = props.config ?? defaultConfig();
    const api = props.api ?? GATEHOUSE_API;
    const logRetention = retention(config.infra.logRetentionDays);

    this.table = new Table(this, 'Table', {
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      ...props.tableProps,
      partitionKey: { name: TABLE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1.name,
      partitionKey: { name: GSI1.partitionKey, type: AttributeType.STRING },
      sortKey: { name: GSI1.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    this.pepper = new Secret(this, 'Pepper', {
      description: 'Gatehouse pepper: the HMAC-SHA256 key API keys are hashed with (a plain string, or a ring {"current","peppers"})',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    acknowledge(this.pepper, 'AwsSolutions-SMG4', 'pepperRotation');

    this.adminKey = new Secret(this, 'AdminKey', {
      description: 'Gatehouse bootstrap admin API key (tenant admin, every scope), written by the bootstrap custom resource',
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // Created empty: the bootstrap function writes the key; CloudFormation never sees it.
    (this.adminKey.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    acknowledge(this.adminKey, 'AwsSolutions-SMG4', 'adminKeyRotation');

    this.bootstrapFunction = new GatehouseFunction(this, 'Bootstrap', {
      entry: 'lambdas/bootstrap/handler',
      description: 'bootstrap: creates the admin API key at deploy time',
      network: props.network,
      logRetention,
      timeout: Duration.seconds(30),
      memorySize: 256,
      define: apiDefinitionDefine(api),
      deployment: config.infra.stackPrefix,
      ...props.bundling,
      environment: {
        ...settingsEnvironment(['tableName', 'keyEnvironment', 'pepperSecretId', 'pepperRefreshSeconds'], config, {
          tableName: this.table.tableName,
          pepperSecretId: this.pepper.secretArn,
        }),
        [ADMIN_KEY_SECRET_ENV]: this.adminKey.secretArn,
      },
    });
    const role = this.bootstrapFunction.role;
    // Verifies an existing admin key (GetItem) or issues one (PutItem); reads the pepper; reads and writes its secret.
    role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [this.table.tableArn] }));
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.pepper.secretArn] }));
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], resources: [this.adminKey.secretArn] }));

    this.bootstrapProvider = new GatehouseProvider(this, 'BootstrapProvider', { onEventHandler: this.bootstrapFunction.fn, logRetention });
    this.bootstrap = new CustomResource(this, 'BootstrapAdminKey', {
      serviceToken: this.bootstrapProvider.serviceToken,
      resourceType: 'Custom::GatehouseAdminKey',
      // A change of key environment must mint a key for the new environment.
      properties: { KeyEnvironment: config.settings.keyEnvironment, Table: this.table.tableName, Secret: this.adminKey.secretArn },
    });
  }
}
