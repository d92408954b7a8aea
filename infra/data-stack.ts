/**
 * Data: the single DynamoDB table (lambdas/core/table.ts), the pepper and the bootstrap admin key.
 *
 * Everything here is retained when the stack is deleted: the table (plus deletion protection and point-in-time
 * recovery) because it is the data; the pepper because without it no issued API key can ever verify again; the
 * admin-key secret because it is the way back in.
 */
import { CustomResource, Duration, RemovalPolicy, Stack, type StackProps, CfnOutput } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Secret, type CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { GSI1, TABLE_KEY, TTL_ATTRIBUTE } from '../lambdas/core/table.js';
import { retention, type GatehouseConfig } from './config.js';
import { GatehouseFunction, type FunctionNetwork } from './function.js';
import { settingsEnvironment } from './function-env.js';
import { acknowledge } from './nag.js';
import { GatehouseProvider } from './provider.js';

/** The bootstrap handler reads this variable directly (lambdas/bootstrap/handler.ts). */
export const ADMIN_KEY_SECRET_ENV = 'GATEHOUSE_ADMIN_KEY_SECRET_ID';

export interface DataStackProps extends StackProps {
  readonly config: GatehouseConfig;
  readonly network: FunctionNetwork;
}

export class DataStack extends Stack {
  readonly table: Table;
  readonly pepper: Secret;
  readonly adminKey: Secret;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = retention(config.infra.logRetentionDays);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
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
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.pepper, 'AwsSolutions-SMG4', 'pepperRotation');

    this.adminKey = new Secret(this, 'AdminKey', {
      description: 'Gatehouse bootstrap admin API key (tenant admin, every scope), written by the bootstrap custom resource',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Created empty: the bootstrap function writes the key; CloudFormation never sees it.
    (this.adminKey.node.defaultChild as CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    acknowledge(this.adminKey, 'AwsSolutions-SMG4', 'adminKeyRotation');

    const bootstrap = new GatehouseFunction(this, 'Bootstrap', {
      entry: 'lambdas/bootstrap/handler.ts',
      description: 'bootstrap: creates the admin API key at deploy time',
      network: props.network,
      logRetention,
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: {
        ...settingsEnvironment(['tableName', 'keyEnvironment', 'pepperSecretId', 'pepperRefreshSeconds'], config, {
          tableName: this.table.tableName,
          pepperSecretId: this.pepper.secretArn,
        }),
        [ADMIN_KEY_SECRET_ENV]: this.adminKey.secretArn,
      },
    });
    // Verifies an existing admin key (GetItem) or issues one (PutItem); reads the pepper; reads and writes its secret.
    bootstrap.role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [this.table.tableArn] }));
    bootstrap.role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.pepper.secretArn] }));
    bootstrap.role.addToPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], resources: [this.adminKey.secretArn] }),
    );

    const provider = new GatehouseProvider(this, 'BootstrapProvider', { onEventHandler: bootstrap.fn, logRetention });
    new CustomResource(this, 'BootstrapAdminKey', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GatehouseAdminKey',
      // A change of key environment must mint a key for the new environment.
      properties: { KeyEnvironment: config.settings.keyEnvironment, Table: this.table.tableName, Secret: this.adminKey.secretArn },
    });

    new CfnOutput(this, 'AdminKeySecretArn', {
      value: this.adminKey.secretArn,
      description: 'Secrets Manager secret holding the bootstrap admin API key (aws secretsmanager get-secret-value --secret-id <arn>)',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }
}
