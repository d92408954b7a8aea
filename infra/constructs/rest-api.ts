/**
 * The REST API Gatehouse creates when it is not given one: regional, stage `prod` with throttling, X-Ray tracing,
 * ERROR-level execution logs (their log group created first, so it has a retention) and JSON access logs that never
 * contain request or response data (requests carry credentials, responses carry new API keys).
 */
import { AccessLogFormat, EndpointType, LogGroupLogDestination, MethodLoggingLevel, RestApi, type RestApiProps } from 'aws-cdk-lib/aws-apigateway';
import { RemovalPolicy } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { retention, type GatehouseConfig } from '../config.js';
import { acknowledge } from '../nag.js';

export const STAGE_NAME = 'prod';

/**
 * The access log line: who (principal, method, tenant, key id, IAM user), what (method, path, status, sizes), how
 * long, and what WAF and the authorizer said. No header, no body. Use it for a REST API of your own too
 * (`AccessLogFormat.custom(JSON.stringify(GATEHOUSE_ACCESS_LOG_FIELDS))`).
 */
export const GATEHOUSE_ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  principalId: '$context.authorizer.principalId',
  authMethod: '$context.authorizer.authMethod',
  tenant: '$context.authorizer.tenant',
  keyId: '$context.authorizer.keyId',
  iamUser: '$context.identity.userArn',
  authorizerStatus: '$context.authorizer.status',
  authorizerLatency: '$context.authorizer.latency',
  authorizerError: '$context.authorizer.error',
  wafStatus: '$context.waf.status',
  wafLatency: '$context.waf.latency',
  wafError: '$context.waf.error',
  errorType: '$context.error.responseType',
  errorMessage: '$context.error.message',
  xrayTraceId: '$context.xrayTraceId',
} as const;

export interface CreatedRestApi {
  readonly restApi: RestApi;
  readonly accessLogs: LogGroup;
  readonly executionLogs: LogGroup;
}

/** Creates the REST API (construct ids Api, AccessLogs, ExecutionLogs in `scope`); `overrides` win over the defaults. */
export function createGatehouseRestApi(scope: Construct, config: GatehouseConfig, overrides: Partial<RestApiProps> = {}): CreatedRestApi {
  const { settings, infra } = config;
  const logRetention = retention(infra.logRetentionDays);
  const accessLogs = new LogGroup(scope, 'AccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
  const stageName = overrides.deployOptions?.stageName ?? STAGE_NAME;
  const restApi = new RestApi(scope, 'Api', {
    restApiName: `${infra.stackPrefix}-api`,
    description: 'Gatehouse API',
    endpointConfiguration: { types: [EndpointType.REGIONAL] },
    // With a custom domain, the default execute-api endpoint is off: the domain (its TLS policy, its mutual TLS)
    // and the stage's WAF are the only way in. AWS answers 403 there (constructs/domain.ts).
    ...(infra.customDomain ? { disableExecuteApiEndpoint: true } : {}),
    // Execution logging (ERROR level, below) needs the account-level CloudWatch role (one setting per account and
    // region, shared by every REST API there). Kept when the stack is deleted: other APIs may be using it.
    cloudWatchRole: true,
    cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    ...overrides,
    deployOptions: {
      stageName: STAGE_NAME,
      tracingEnabled: true,
      throttlingRateLimit: settings.throttleRateLimit,
      throttlingBurstLimit: settings.throttleBurstLimit,
      // Per-method metrics (every resource × method × stage a set of custom metrics) only when asked for: the stage's
      // own metrics (Count, 4XXError, 5XXError, Latency per API and stage) are free and feed the dashboard.
      metricsEnabled: infra.detailedMetrics,
      loggingLevel: MethodLoggingLevel.ERROR,
      // Never log request or response data: requests carry credentials, responses carry new API keys.
      dataTraceEnabled: false,
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: AccessLogFormat.custom(JSON.stringify(GATEHOUSE_ACCESS_LOG_FIELDS)),
      ...overrides.deployOptions,
    },
  });
  acknowledge(restApi, 'AwsSolutions-APIG2', 'requestValidation');
  if (infra.customDomain) {
    // API Gateway applies disableExecuteApiEndpoint when the stage is next updated: a new deployment makes sure.
    restApi.latestDeployment?.addToLogicalId({ disableExecuteApiEndpoint: true });
    // The execute-api URL CDK outputs by default no longer answers: no output should advertise it.
    restApi.node.tryRemoveChild('Endpoint');
  }
  const cloudWatchRole = restApi.node.tryFindChild('CloudWatchRole');
  if (cloudWatchRole) {
    acknowledge(cloudWatchRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', 'apiGatewayCloudWatchRole');
  }
  // API Gateway creates this group on first use with no retention; creating it first gives it one.
  // Its name holds the REST API's id, so a redeploy after a teardown (a new API) never meets the retained group.
  const executionLogs = new LogGroup(scope, 'ExecutionLogs', {
    logGroupName: `API-Gateway-Execution-Logs_${restApi.restApiId}/${stageName}`,
    retention: logRetention,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  return { restApi, accessLogs, executionLogs };
}
