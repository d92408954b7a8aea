/**
 * <prefix>Data: the table, the pepper and the bootstrap admin key (GatehouseData), and their outputs. The construct's
 * id is `Default`, which CDK leaves out of logical ids: the table and secrets keep the logical ids they were created
 * with, so they are never replaced.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Api } from '../lambdas/core/api-definition.js';
import type { GatehouseConfig } from './config.js';
import { GatehouseData } from './constructs/data.js';
import type { FunctionNetwork } from './function.js';

export { ADMIN_KEY_SECRET_ENV } from './constructs/data.js';

export interface DataStackProps extends StackProps {
  readonly config: GatehouseConfig;
  readonly network: FunctionNetwork;
  /** The deployment's API (the bootstrap function's bundled declaration). */
  readonly api: Api;
}

export class DataStack extends Stack {
  readonly data: GatehouseData;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.data = new GatehouseData(this, 'Default', { config: props.config, network: props.network, api: props.api });

    new CfnOutput(this, 'AdminKeySecretArn', {
      value: this.data.adminKey.secretArn,
      description: 'Secrets Manager secret holding the bootstrap admin API key (aws secretsmanager get-secret-value --secret-id <arn>)',
    });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
  }

  get table(): Table {
    return this.data.table;
  }

  get pepper(): Secret {
    return this.data.pepper;
  }

  get adminKey(): Secret {
    return this.data.adminKey;
  }
}
