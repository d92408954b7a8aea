/**
 * Network: the VPC the functions run in. Private isolated subnets only — no NAT gateway, no internet gateway, no
 * route out — so a function can reach nothing but the AWS services it is given endpoints for:
 * - DynamoDB through a gateway endpoint (free; a route in the isolated route tables),
 * - Secrets Manager (the pepper, the admin key) and X-Ray (the functions run with active tracing, and the X-Ray
 *   daemon of a VPC-attached function sends its segments over the function's network) through interface endpoints
 *   with private DNS; and CloudWatch Logs, for any direct Logs API call from a function or an extension (Lambda
 *   itself ships stdout/stderr outside the VPC, so the functions' own logs do not depend on it).
 * The functions' security group allows only HTTPS egress, and only to those endpoints and DynamoDB's prefix list.
 * Endpoint policies admit this account's principals (and, for DynamoDB, this account's tables) only, so a leaked
 * credential from elsewhere cannot use the endpoints to move data out.
 * VPC flow logs record all traffic.
 */
import { Aws, Stack, type StackProps } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type InterfaceVpcEndpoint,
} from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { retention, type GatehouseConfig } from './config.js';
import type { FunctionNetwork } from './function.js';
import { acknowledge } from './nag.js';
import { loggingOnlyRole } from './provider.js';

export interface NetworkStackProps extends StackProps {
  readonly config: GatehouseConfig;
}

/** Interface endpoints the VPC functions call (DynamoDB has the gateway endpoint). STS is not needed: functions use their execution role. */
export const INTERFACE_ENDPOINTS = {
  SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  XRay: InterfaceVpcEndpointAwsService.XRAY,
} as const;

export class NetworkStack extends Stack {
  readonly vpc: Vpc;
  readonly functionSecurityGroup: SecurityGroup;
  readonly endpointSecurityGroup: SecurityGroup;
  readonly endpoints: Record<keyof typeof INTERFACE_ENDPOINTS, InterfaceVpcEndpoint>;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { infra } = props.config;

    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.80.0.0/16'),
      maxAzs: 2,
      natGateways: 0,
      createInternetGateway: false,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [{ name: 'isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
    });

    const flowLogs = new LogGroup(this, 'FlowLogs', { retention: retention(infra.logRetentionDays) });
    this.vpc.addFlowLog('FlowLog', { destination: FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: FlowLogTrafficType.ALL });

    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Gatehouse interface endpoints: HTTPS from the Gatehouse functions only',
    });
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Gatehouse functions: HTTPS egress to the VPC endpoints and DynamoDB only',
    });
    this.functionSecurityGroup.addEgressRule(this.endpointSecurityGroup, Port.tcp(443), 'HTTPS to the interface endpoints');
    this.endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, Port.tcp(443), 'HTTPS from the Gatehouse functions');

    const dynamo = this.vpc.addGatewayEndpoint('DynamoDb', {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [{ subnetType: SubnetType.PRIVATE_ISOLATED }],
    });
    dynamo.addToPolicy(
      new PolicyStatement({
        principals: [new AnyPrincipal()],
        actions: ['dynamodb:*'],
        resources: [`arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/*`],
        conditions: { StringEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID } },
      }),
    );

    const endpoints: Partial<Record<keyof typeof INTERFACE_ENDPOINTS, InterfaceVpcEndpoint>> = {};
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS) as [keyof typeof INTERFACE_ENDPOINTS, InterfaceVpcEndpointAwsService][]) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
        subnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      });
      endpoint.addToPolicy(
        new PolicyStatement({
          principals: [new AnyPrincipal()],
          actions: ['*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID } },
        }),
      );
      endpoints[name] = endpoint;
    }
    this.endpoints = endpoints as Record<keyof typeof INTERFACE_ENDPOINTS, InterfaceVpcEndpoint>;

    // HTTPS to DynamoDB goes through the gateway endpoint to DynamoDB's public addresses, which AWS publishes as a
    // managed prefix list. Its id differs per region; a synth-time lookup would tie the template to one account and
    // region, so it is read at deploy time (one read-only EC2 call) and the egress rule names exactly that list.
    const lookupLogs = new LogGroup(this, 'PrefixListLookupLogs', { retention: retention(infra.logRetentionDays) });
    const prefixList = new AwsCustomResource(this, 'DynamoDbPrefixList', {
      onUpdate: {
        service: 'EC2',
        action: 'describePrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${Aws.REGION}.dynamodb`] }] },
        physicalResourceId: PhysicalResourceId.of(`dynamodb-prefix-list-${Aws.REGION}`),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
      logGroup: lookupLogs,
      role: loggingOnlyRole(this, 'PrefixListLookupRole', lookupLogs, 'Gatehouse DynamoDB prefix-list lookup (deploy time)'),
    });
    acknowledge(prefixList, 'AwsSolutions-IAM5[Resource::*]', 'awsCustomResourceWildcard');
    this.functionSecurityGroup.addEgressRule(
      Peer.prefixList(prefixList.getResponseField('PrefixLists.0.PrefixListId')),
      Port.tcp(443),
      'HTTPS to DynamoDB through the gateway endpoint',
    );
  }

  get functionNetwork(): FunctionNetwork {
    return { vpc: this.vpc, securityGroup: this.functionSecurityGroup };
  }
}
