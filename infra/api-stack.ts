/**
 * API: the regional REST API built from the one route table (lambdas/routes.ts), the REQUEST authorizer, one
 * function per handler group, the gateway responses (lambdas/core/gateway-responses.ts: envelope, Cache-Control
 * no-store, and CORS headers only when exactly one origin is configured), CORS preflight, logs, throttling and
 * tracing, and the association with the WAF web ACL.
 *
 * Authorizer identity sources and cache — the trade-off:
 * A credential arrives in `Authorization` *or* `X-API-Key`. With API Gateway's authorizer cache on, every identity
 * source must be present and non-empty or API Gateway answers 401 without calling the authorizer, so no choice of
 * sources lets both headers work with caching on (keying the cache on something always present, such as the source
 * IP, would share one principal's policy with every caller behind that address). So the authorizer runs with
 * API Gateway's cache OFF (TTL 0) and no identity source: it is invoked for every request, and it caches decisions
 * itself, per container, for at most cacheTtlSeconds (≤ 5 s, default 3) — which is also the revocation window. The
 * cost is one authorizer invocation per request (warm decisions take microseconds, but every request is billed an
 * invocation and pays its ~ms of overhead); the gain is that both headers work, revocation takes effect within 5 s
 * on every container, and no cached policy can outlive a key.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  type CfnAuthorizer,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  type Resource,
  ResponseType,
  RestApi,
  type MethodOptions,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { API_SETTINGS } from '../lambdas/api/services.js';
import { AUTHORIZER_SETTINGS } from '../lambdas/authorizer/wiring.js';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS } from '../lambdas/core/cors.js';
import { GATEWAY_RESPONSES, gatewayResponseBody, gatewayResponseHeaders, type GatewayResponseDefinition } from '../lambdas/core/gateway-responses.js';
import { JWKS_SOURCE_ENV, JWKS_SOURCE_STORE } from '../lambdas/core/jwks-store.js';
import { GSI1 } from '../lambdas/core/table.js';
import { ROUTES, type HandlerName, type Route } from '../lambdas/routes.js';
import { retention, type GatehouseConfig } from './config.js';
import { GatehouseFunction, indexArn, type FunctionNetwork } from './function.js';
import { settingsEnvironment } from './function-env.js';
import { acknowledge } from './nag.js';

export const STAGE_NAME = 'prod';

type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/**
 * What each handler group's code does with the table and the pepper (lambdas/api/*.ts and the stores they use).
 * A Record over HandlerName: a new group does not compile until its permissions are decided here.
 */
export const HANDLER_ACCESS: Record<HandlerName, { table?: TableAction[]; index?: TableAction[]; pepper?: boolean }> = {
  health: {},
  openapi: {},
  whoami: {},
  // Key lifecycle: get/create/revoke/rotate keys (Get/Put/Update), list a tenant's keys (Query on gsi1), one audit
  // event per change (Put); hashing a new key needs the pepper.
  keys: { table: ['GetItem', 'PutItem', 'UpdateItem', 'Query'], index: ['Query'], pepper: true },
  usage: { table: ['GetItem', 'Query'] },
  // A tenant's events (Query on the table), administrators' cross-tenant days (Query on gsi1).
  audit: { table: ['Query'], index: ['Query'] },
  items: { table: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] },
  // One GetItem by key id, then the keyed hash.
  verify: { table: ['GetItem'], pepper: true },
};

/** The authorizer: key lookup (GetItem), JWKS lookup (GetItem), usage counters (UpdateItem), audit events and mode tracking (PutItem, UpdateItem). */
export const AUTHORIZER_TABLE_ACTIONS: TableAction[] = ['GetItem', 'PutItem', 'UpdateItem'];

export interface ApiStackProps extends StackProps {
  readonly config: GatehouseConfig;
  readonly network: FunctionNetwork;
  readonly table: ITable;
  readonly pepper: ISecret;
  /** GATEHOUSE_COGNITO (JSON with the pool and client ids). */
  readonly cognitoSetting: string;
  readonly webAclArn: string;
}

/** A gateway-response header value is a mapping expression: static text goes in single quotes. */
function staticValue(value: string): string {
  if (value.includes("'")) throw new Error(`Gateway response header value cannot contain a single quote: ${value}`);
  return `'${value}'`;
}

export class ApiStack extends Stack {
  readonly api: RestApi;
  readonly authorizerFunction: GatehouseFunction;
  readonly handlers: Record<HandlerName, GatehouseFunction>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, network, table, pepper } = props;
    const { settings, infra } = config;
    const logRetention = retention(infra.logRetentionDays);
    const tableActions = (actions: readonly TableAction[]) => actions.map((a) => `dynamodb:${a}`);
    const readPepper = new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [pepper.secretArn] });

    // --- Functions -------------------------------------------------------------------------------------------------
    this.authorizerFunction = new GatehouseFunction(this, 'Authorizer', {
      entry: 'lambdas/authorizer/handler.ts',
      description: 'authorizer: API keys, Cognito and OIDC tokens',
      network,
      logRetention,
      memorySize: 1024,
      timeout: Duration.seconds(6),
      environment: {
        ...settingsEnvironment(AUTHORIZER_SETTINGS, config, {
          tableName: table.tableName,
          pepperSecretId: pepper.secretArn,
          cognito: props.cognitoSetting,
        }),
        // No internet from the VPC: JWKS come from the table, where the JWKS mirror keeps them (identity stack).
        [JWKS_SOURCE_ENV]: JWKS_SOURCE_STORE,
      },
    });
    this.authorizerFunction.role.addToPolicy(new PolicyStatement({ actions: tableActions(AUTHORIZER_TABLE_ACTIONS), resources: [table.tableArn] }));
    this.authorizerFunction.role.addToPolicy(readPepper);

    const handlerNames = [...new Set(ROUTES.map((r) => r.handler))];
    const handlers: Partial<Record<HandlerName, GatehouseFunction>> = {};
    for (const name of handlerNames) {
      const fn = new GatehouseFunction(this, `Handler-${name}`, {
        entry: `lambdas/api/${name}.ts`,
        description: `handler: ${ROUTES.filter((r) => r.handler === name).map((r) => `${r.method} ${r.path}`).join(', ')}`,
        network,
        logRetention,
        environment: settingsEnvironment(API_SETTINGS, config, { tableName: table.tableName, pepperSecretId: pepper.secretArn }),
      });
      const access = HANDLER_ACCESS[name];
      if (access.table?.length) fn.role.addToPolicy(new PolicyStatement({ actions: tableActions(access.table), resources: [table.tableArn] }));
      if (access.index?.length) fn.role.addToPolicy(new PolicyStatement({ actions: tableActions(access.index), resources: [indexArn(table.tableArn, GSI1.name)] }));
      if (access.pepper) fn.role.addToPolicy(readPepper);
      handlers[name] = fn;
    }
    this.handlers = handlers as Record<HandlerName, GatehouseFunction>;

    // --- REST API --------------------------------------------------------------------------------------------------
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: logRetention });
    this.api = new RestApi(this, 'Api', {
      restApiName: `${infra.stackPrefix}-api`,
      description: 'Gatehouse API',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // Execution logging (ERROR level, below) needs the account-level CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE_NAME,
        tracingEnabled: true,
        throttlingRateLimit: settings.throttleRateLimit,
        throttlingBurstLimit: settings.throttleBurstLimit,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        // Never log request or response data: requests carry credentials, responses carry new API keys.
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
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
          }),
        ),
      },
    });
    acknowledge(this.api, 'AwsSolutions-APIG2', 'requestValidation');
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(cloudWatchRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', 'apiGatewayCloudWatchRole');
    }
    // API Gateway creates this group on first use with no retention; creating it first gives it one.
    new LogGroup(this, 'ExecutionLogs', { logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${STAGE_NAME}`, retention: logRetention });

    const authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', {
      authorizerName: 'gatehouse',
      handler: this.authorizerFunction.fn,
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    // Caching off, so no identity source is required: either credential header may be the one present (see above).
    (authorizer.node.defaultChild as CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');

    const integrations = new Map<HandlerName, LambdaIntegration>();
    const integrationFor = (name: HandlerName) => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new LambdaIntegration(this.handlers[name].fn, { proxy: true, allowTestInvoke: false });
        integrations.set(name, integration);
      }
      return integration;
    };
    const methodOptions = (route: Route): MethodOptions => {
      switch (route.auth) {
        case 'public':
          return { authorizationType: AuthorizationType.NONE };
        case 'token':
          return { authorizationType: AuthorizationType.CUSTOM, authorizer };
        case 'iam':
          return { authorizationType: AuthorizationType.IAM };
      }
    };

    const resources = new Map<string, Resource>();
    for (const route of ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      resources.set(route.path, resource);
      const method = resource.addMethod(route.method, integrationFor(route.handler), methodOptions(route));
      if (route.auth === 'public') acknowledge(method, 'AwsSolutions-APIG4', 'publicRoute');
      acknowledge(method, 'AwsSolutions-COG4', route.auth === 'public' ? 'publicRoute' : route.auth === 'iam' ? 'iamRoute' : 'lambdaAuthorizer');
    }

    // --- CORS (only when origins are configured) -------------------------------------------------------------------
    const origins = settings.corsOrigins;
    if (origins.length > 0) {
      for (const [path, resource] of resources) {
        resource.addCorsPreflight({
          allowOrigins: origins,
          allowHeaders: CORS_ALLOW_HEADERS,
          allowMethods: [...new Set(ROUTES.filter((r) => r.path === path).map((r) => r.method))],
          allowCredentials: true,
          maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
          statusCode: 204,
        });
      }
    }

    // --- Gateway responses: the error envelope for everything API Gateway answers itself ---------------------------
    // Headers and bodies come from lambdas/core/gateway-responses.ts, the local gateway's definitions: Cache-Control
    // no-store on every one, and CORS headers only when exactly one origin is configured — a gateway response is
    // static and cannot pick the request's origin out of several (lambdas/core/cors.ts, staticCorsHeaders).
    for (const def of GATEWAY_RESPONSES) this.addGatewayResponse(def, origins);

    // --- WAF -------------------------------------------------------------------------------------------------------
    new CfnWebACLAssociation(this, 'WafAssociation', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: props.webAclArn });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Gatehouse API base URL (routes start with /health, /v1/…)' });
  }

  private addGatewayResponse(def: GatewayResponseDefinition, corsOrigins: readonly string[]): void {
    const body = gatewayResponseBody(def, '$context.requestId');
    // The template is VTL: no other `$` or `#` may reach it from the static text.
    if (/[#$]/.test(body.replace('$context.requestId', ''))) throw new Error(`Gateway response ${def.type} text would be read as VTL`);
    this.api.addGatewayResponse(`Response-${def.type}`, {
      type: ResponseType.of(def.type),
      statusCode: String(def.status),
      // Static values only: never `method.request.header.…`, which would copy client input into the response.
      responseHeaders: Object.fromEntries(Object.entries(gatewayResponseHeaders(def, corsOrigins)).map(([name, value]) => [name, staticValue(value)])),
      templates: { 'application/json': body },
    });
  }
}
