/**
 * CDK framework functions (the custom-resource Provider framework, AwsCustomResource) with roles of our own: instead
 * of AWSLambdaBasicExecutionRole (logs:* on every log group) they may write only to their own log group.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** A Lambda execution role that can write to `logGroup` and nothing else (until more is granted). */
export function loggingOnlyRole(scope: Construct, id: string, logGroup: LogGroup, description: string): Role {
  const role = new Role(scope, id, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description });
  role.addToPolicy(new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
  return role;
}

export interface GatehouseProviderProps {
  readonly onEventHandler: IFunction;
  readonly logRetention: RetentionDays;
}

/** The CDK Provider framework in front of one Gatehouse custom-resource function. */
export class GatehouseProvider extends Construct {
  readonly provider: Provider;

  constructor(scope: Construct, id: string, props: GatehouseProviderProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
    const role = loggingOnlyRole(this, 'FrameworkRole', logGroup, 'Gatehouse custom-resource framework (onEvent)');
    this.provider = new Provider(this, 'Provider', { onEventHandler: props.onEventHandler, logGroup, frameworkOnEventRole: role });
    const logicalId = Stack.of(props.onEventHandler).getLogicalId(props.onEventHandler.node.defaultChild as CfnFunction);
    // The framework may invoke any version or alias of the one handler it fronts.
    acknowledge(role, `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`, 'providerFrameworkInvoke');
  }

  get serviceToken(): string {
    return this.provider.serviceToken;
  }
}
