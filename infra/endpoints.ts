/**
 * Which AWS services the functions in the isolated VPC reach, and how: the base set every deployment needs, plus
 * whatever the deployed handler groups and Lambda targets declare in `access.endpoints`. Gateway endpoints (DynamoDB,
 * S3) are routes in the subnets' route tables; every other service gets an interface endpoint.
 */
import { InterfaceVpcEndpointAwsService } from 'aws-cdk-lib/aws-ec2';
import type { HandlerGroup } from '../lambdas/api/group.js';
import type { Target } from '../lambdas/app.js';
import type { DeploymentProfile } from './config.js';

export type GatewayEndpointName = 'dynamodb' | 's3';

/** Gateway endpoints: construct ids of the endpoint and of its deploy-time prefix-list lookup. */
export const GATEWAY_ENDPOINTS: Readonly<Record<GatewayEndpointName, { readonly id: string; readonly lookupId: string; readonly title: string }>> = {
  dynamodb: { id: 'DynamoDb', lookupId: 'DynamoDbPrefixList', title: 'DynamoDB' },
  s3: { id: 'S3', lookupId: 'S3PrefixList', title: 'S3' },
};

/**
 * The base interface endpoints: [construct id, service, endpoint name, the profiles that get it]. Not CloudWatch Logs:
 * Lambda ships a function's stdout and stderr outside the VPC, and no Gatehouse function calls the Logs API (a group
 * that does declares `logs` in its endpoints). Not STS: functions use their execution role.
 * - Secrets Manager, in every profile: the functions read the pepper (and the bootstrap the admin-key secret).
 * - X-Ray, in prod: the functions run with active tracing, and a VPC-attached function's trace segments leave through
 *   its network; in dev they have no route out and are dropped (API Gateway and the JWKS mirror still trace).
 */
export const BASE_INTERFACE_ENDPOINTS: readonly (readonly [string, InterfaceVpcEndpointAwsService, string, readonly DeploymentProfile[]])[] = [
  ['SecretsManager', InterfaceVpcEndpointAwsService.SECRETS_MANAGER, 'secretsmanager', ['dev', 'prod']],
  ['XRay', InterfaceVpcEndpointAwsService.XRAY, 'xray', ['prod']],
];

/** The base interface endpoints of one profile. */
export function baseInterfaceEndpoints(profile: DeploymentProfile): readonly (readonly [string, InterfaceVpcEndpointAwsService, string])[] {
  return BASE_INTERFACE_ENDPOINTS.filter(([, , , profiles]) => profiles.includes(profile)).map(([id, service, name]) => [id, service, name] as const);
}

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
