/**
 * Which AWS services the functions in the isolated VPC reach, and how: the base set every deployment needs, plus
 * whatever the deployed handler groups and Lambda targets declare in `access.endpoints`. Gateway endpoints (DynamoDB,
 * S3) are routes in the subnets' route tables; every other service gets an interface endpoint.
 */
import { InterfaceVpcEndpointAwsService } from 'aws-cdk-lib/aws-ec2';
import type { HandlerGroup } from '../lambdas/api/group.js';
import type { Target } from '../lambdas/app.js';

export type GatewayEndpointName = 'dynamodb' | 's3';

/** Gateway endpoints: construct ids of the endpoint and of its deploy-time prefix-list lookup. */
export const GATEWAY_ENDPOINTS: Readonly<Record<GatewayEndpointName, { readonly id: string; readonly lookupId: string; readonly title: string }>> = {
  dynamodb: { id: 'DynamoDb', lookupId: 'DynamoDbPrefixList', title: 'DynamoDB' },
  s3: { id: 'S3', lookupId: 'S3PrefixList', title: 'S3' },
};

/**
 * Interface endpoints every deployment has: [construct id, service, endpoint name]. STS is not needed: functions
 * use their execution role.
 */
export const BASE_INTERFACE_ENDPOINTS: readonly (readonly [string, InterfaceVpcEndpointAwsService, string])[] = [
  ['SecretsManager', InterfaceVpcEndpointAwsService.SECRETS_MANAGER, 'secretsmanager'],
  ['Logs', InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, 'logs'],
  ['XRay', InterfaceVpcEndpointAwsService.XRAY, 'xray'],
];

/** `sqs` → `Sqs`, `ecr.api` → `EcrApi`: the construct id of an extra interface endpoint. */
export function interfaceEndpointId(name: string): string {
  return name
    .split(/[.-]/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** Every endpoint name the isolated groups and Lambda targets declare, deduplicated, in first-declared order. */
export function requiredEndpoints(groups: Iterable<HandlerGroup>, targets: Readonly<Record<string, Target>> = {}): string[] {
  const out = new Set<string>();
  for (const group of groups) {
    if (group.access.network !== 'internet') for (const name of group.access.endpoints ?? []) out.add(name);
  }
  for (const target of Object.values(targets)) {
    if (target.kind === 'lambda' && target.access?.network !== 'internet') for (const name of target.access?.endpoints ?? []) out.add(name);
  }
  return [...out];
}
