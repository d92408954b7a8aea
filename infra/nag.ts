/**
 * Every cdk-nag (AwsSolutions) acknowledgement in the app, with its reason, in one place so a reviewer reads them
 * together. Findings are fixed where that is possible; what is left is listed here and acknowledged on the narrowest
 * construct that carries it (never on a whole stack or app). The infra tests check that no finding is left
 * unacknowledged and that every acknowledgement used here is needed.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export const NAG_REASONS = {
  lambdaRoleWildcard:
    'Resource::* is required by the actions it covers: ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface/' +
    'AssignPrivateIpAddresses/UnassignPrivateIpAddresses (Lambda attaches the function to the VPC; these actions take no ' +
    'resource-level scope at function creation) and xray:PutTraceSegments/PutTelemetryRecords (X-Ray has no resource ' +
    'ARNs). Every data-plane permission of this role (DynamoDB, Secrets Manager, CloudWatch Logs) is scoped to named resources.',
  xrayOnlyWildcard:
    'Resource::* is required by xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level scope. ' +
    'Every other permission of this role is scoped to named resources.',
  publicRoute:
    'Public by contract (CONTRACT §3): the liveness probe and the OpenAPI document must be readable without a credential. ' +
    'Their handlers read no data and hold no IAM permission; WAF and stage throttling still apply.',
  declaredPublicRoute:
    'Public by the app\'s own declaration: its route table marks this route auth "public", the team\'s decision that it needs ' +
    'no credential. Gatehouse sets every X-Gatehouse-* principal header empty on it; WAF and stage throttling still apply.',
  declaredIamRoute:
    'Authorised by AWS IAM (SigV4) by the app\'s own declaration (auth "iam"): its callers are AWS principals, which a ' +
    'Cognito authorizer cannot admit.',
  lambdaAuthorizer:
    'Authorised by the Gatehouse REQUEST authorizer (a Lambda authorizer), not a Cognito authorizer: the API must accept ' +
    'Gatehouse API keys and tokens from any configured OIDC issuer as well as Cognito tokens (CONTRACT §1), which a ' +
    'COGNITO_USER_POOLS authorizer cannot. Cognito tokens are verified in the authorizer with aws-jwt-verify.',
  iamRoute:
    'Authorised by AWS IAM (SigV4) by contract (CONTRACT §3: POST /v1/verify is for other AWS services). A Cognito ' +
    'authorizer would exclude exactly the callers this route exists for.',
  requestValidation:
    'Requests are validated in the handlers with the zod schemas that also generate the OpenAPI document, so errors carry ' +
    'the field-level problem envelope (CONTRACT §4); API Gateway models would duplicate the schemas in JSON Schema draft 4 ' +
    'and answer with a different error shape.',
  apiGatewayCloudWatchRole:
    'AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for the account-level role API Gateway uses to write ' +
    'execution logs (required for the ERROR-level execution logging AwsSolutions-APIG6 asks for). It is held only by that ' +
    'role, which only apigateway.amazonaws.com can assume.',
  cognitoPlusTier:
    'The Plus feature plan (threat protection, adaptive authentication) is billed per monthly active user, so Gatehouse ' +
    'deploys the Essentials plan. Password guessing against managed login is still limited by Cognito\'s built-in ' +
    'lockout after repeated failures, the 14-character password policy and TOTP MFA; teams that want adaptive ' +
    'authentication switch featurePlan to PLUS in the Identity stack.',
  cognitoMfaOptional:
    'MFA (TOTP) is optional because the context key mfa says so (default "optional": teams onboard people before ' +
    'enforcing it); every user can enrol a TOTP authenticator, and mfa=required enforces it for all, after which this ' +
    'acknowledgement is not applied.',
  pepperRotation:
    'The pepper is an HMAC key, not a credential: automatic rotation would make every issued API key unverifiable. It is ' +
    'rotated by hand as a ring ({"current","peppers"}) so issued keys keep verifying under their recorded pepper version ' +
    '(README "API keys").',
  adminKeyRotation:
    'The secret holds the bootstrap admin API key written once by the bootstrap custom resource. A Secrets Manager rotation ' +
    'would change the secret without changing the key store; the key is rotated through the API (POST /v1/keys/{keyId}/rotate) ' +
    'or revoked once real administrators exist.',
  providerFrameworkInvoke:
    'The CDK Provider framework grants its onEvent function lambda:InvokeFunction on the handler ARN and on <arn>:* ' +
    '(its versions and aliases); the wildcard stays within this one function.',
  awsCustomResourceWildcard:
    'ec2:DescribePrefixLists supports no resource-level permissions; it is a read-only call made once per deployment to ' +
    'find the regional DynamoDB prefix list, so the functions\' security group can allow HTTPS to DynamoDB and nothing else.',
} as const;

export type NagReason = keyof typeof NAG_REASONS;

/** Acknowledges one AwsSolutions finding on `construct` (and its children), with a reason from {@link NAG_REASONS}. */
export function acknowledge(construct: IConstruct, id: string, reason: NagReason): void {
  Validations.of(construct).acknowledge({ id, reason: NAG_REASONS[reason] });
}
