/** REST (v1) REQUEST-authorizer events as API Gateway sends them. */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';

export const ARN_PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/';

export function authorizerEvent(args: {
  method?: string;
  path?: string;
  resource?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  sourceIp?: string;
}): APIGatewayRequestAuthorizerEvent {
  const method = args.method ?? 'GET';
  const path = args.path ?? '/v1/whoami';
  const headers = args.headers ?? {};
  return {
    type: 'REQUEST',
    methodArn: `${ARN_PREFIX}${method}${path}`,
    resource: args.resource ?? path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: args.multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      httpMethod: method,
      path: `/prod${path}`,
      stage: 'prod',
      requestId: 'req-1',
      resourceId: 'r1',
      resourcePath: args.resource ?? path,
      identity: { sourceIp: args.sourceIp ?? '203.0.113.9' },
    } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export function arnFor(method: string, path: string): string {
  return `${ARN_PREFIX}${method}${path}`;
}
