/**
 * GatehouseApi: an API behind Gatehouse, on a REST API of the team's (`existingRestApi`) or one it creates. From one
 * declaration (a {@link GatehouseApp}: the team's routes, scopes and targets, and Gatehouse's own routes mounted
 * under a base path — or Gatehouse's own app) it builds:
 * - the REQUEST authorizer and its function;
 * - one function per Gatehouse handler group, with exactly the access the group declares (lambdas/api/group.ts);
 * - the team's targets: a function per Lambda target, an HTTP proxy integration per route of an HTTP target (the
 *   principal in `X-Gatehouse-*` headers), or the integration the team passes in `integrations`;
 * - a method for every route: the authorizer on token routes, IAM on iam routes, none on public ones;
 * - CORS preflight (when origins are configured), the gateway responses, and the WAF association;
 * - when the app serves the browser console and the identity has a managed-login domain: the console's own app client
 *   on the user pool (constructs/console.ts says why there and not on the people client), whose tokens the authorizer
 *   accepts too.
 * Every Gatehouse function carries the deployment's declaration in its code (esbuild define), and each handler group
 * what its bundle hook builds (lambdas/api/group.ts: the OpenAPI document, the console's files).
 *
 * How API Gateway runs the authorizer (its cache off, or gateway cache mode): request-authorizer.ts.
 */
import { isAbsolute, resolve } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import {
  AuthorizationType,
  LambdaIntegration,
  type RequestAuthorizer,
  type CfnStage,
  type GatewayResponse,
  type Integration,
  type IResource,
  type IRestApi,
  type Method,
  type MethodOptions,
  type RestApiProps,
  type Stage,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterPattern, SubscriptionFilter, type LogGroup } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { CONSOLE_GROUP, consolePathOf } from '../../lambdas/api/console/config.js';
import { CONSOLE_SIGN_IN_ENV } from '../../lambdas/api/console/sign-in.js';
import { bundleValues, type BundleContext, type DeploymentValues, type HandlerGroup } from '../../lambdas/api/group.js';
import { groupEntryFile } from '../../lambdas/api/groups.js';
import { decodeOpenApiDocument, OPENAPI_DOCUMENT_ENV } from '../../lambdas/api/openapi/operations.js';
import { API_SETTINGS } from '../../lambdas/api/services.js';
import { GATEHOUSE_APP, type GatehouseApp, type LambdaTarget } from '../../lambdas/app.js';
import { AUTHORIZER_SETTINGS } from '../../lambdas/authorizer/wiring.js';
import { routeKeyOf, type Route } from '../../lambdas/core/api-definition.js';
import { BOOKKEEPER } from '../../lambdas/bookkeeper/definition.js';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS } from '../../lambdas/core/cors.js';
import { authorizerCachingOf, gatewayResponsesFor } from '../../lambdas/core/gateway-cache.js';
import { NO_SCOPES } from '../../lambdas/core/settings.js';
import { JWKS_SOURCE_ENV, JWKS_SOURCE_STORE } from '../../lambdas/core/jwks-store.js';
import { accessStatements, tableActions } from '../access.js';
import { apiDefinitionDefine, bundleValuesDefine } from '../bundle.js';
import { anonymousScopesFor, retention, type GatehouseConfig } from '../config.js';
import { GatehouseFunction, resolveEntry, type FunctionNetwork, type GatehouseBundling } from '../function.js';
import { settingsEnvironment } from '../function-env.js';
import { acknowledge } from '../nag.js';
import { defaultConfig } from './defaults.js';
import { addGatewayResponses } from './gateway-responses.js';
import { addPlanSignals } from './plan-signals.js';
import { PlanCatalog, usageKeysFor } from '../../lambdas/core/plans.js';
import { httpTargetIntegration, methodPathParameters } from './http-target.js';
import { GatehouseConsoleSignIn } from './console.js';
import { GatehouseDomain } from './domain.js';
import { cognitoSettingOf, type TokenIssuers } from './identity.js';
import { createGatehouseRestApi } from './rest-api.js';
import { gatehouseRequestAuthorizer } from './request-authorizer.js';

/** The authorizer: key lookup (GetItem), JWKS lookup (GetItem), usage counters (UpdateItem), audit events and mode tracking (PutItem, UpdateItem). */
export const AUTHORIZER_TABLE_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem'] as const;

/** The handler group that serves the OpenAPI document (its function also carries the document). */
export const OPENAPI_GROUP = 'openapi';

/** The handler group that serves the browser console (its function carries the console's files). */
export { CONSOLE_GROUP };

/**
 * The bookkeeper (lambdas/bookkeeper/definition.ts): reads the authorizer's bookkeeping log lines through a
 * CloudWatch Logs subscription and writes usage counts and refusal events to the table. Its entry is relative to the
 * Gatehouse code root; while that file does not exist (an older package), no bookkeeper is deployed.
 */
export const BOOKKEEPER_ENTRY = BOOKKEEPER.entry;
export const BOOKKEEPER_TABLE_ACTIONS = BOOKKEEPER.access.table;

/** The bookkeeper entry when it exists, else undefined. */
function defaultBookkeeperEntry(): string | undefined {
  try {
    return resolveEntry(BOOKKEEPER_ENTRY);
  } catch {
    return undefined;
  }
}

/** What the functions read and write (GatehouseData satisfies it). */
export interface GatehouseDataResources {
  readonly table: ITable;
  readonly pepper: ISecret;
}

export interface GatehouseApiProps {
  /** @default gatehouseConfig() (every default) */
  readonly config?: GatehouseConfig;
  /** The API: the team's declaration (defineApp) or Gatehouse's own. @default GATEHOUSE_APP */
  readonly app?: GatehouseApp;
  /** The handler groups the app's routes name (loadAppGroups(app)): each becomes one function. */
  readonly groups: ReadonlyMap<string, HandlerGroup>;
  /** Where the functions run (GatehouseNetwork.functionNetwork). */
  readonly network: FunctionNetwork;
  /** The table and pepper (GatehouseData). */
  readonly data: GatehouseDataResources;
  /** Who issues tokens (GatehouseIdentity). */
  readonly identity: TokenIssuers;
  /**
   * A REST API of the team's: Gatehouse adds its authorizer, methods, gateway responses and (with origins) CORS
   * preflights to it, and leaves its stage, logging and deployment to the team. Put GatehouseApi in the REST API's
   * stack: methods reference the functions. @default a new regional REST API (see rest-api.ts)
   */
  readonly existingRestApi?: IRestApi;
  /** Overrides for the new REST API (not with existingRestApi). */
  readonly restApiProps?: Partial<RestApiProps>;
  /** Associate this web ACL (GatehouseWaf.webAclArn) with the REST API's deployment stage. @default none */
  readonly webAclArn?: string;
  /** Add Gatehouse's gateway responses (the error envelope) to the REST API. @default true */
  readonly gatewayResponses?: boolean;
  /** The folder a Lambda target's relative `entry` is resolved from (the app declaration's folder). @default process.cwd() */
  readonly baseDir?: string;
  /**
   * An integration per target name, used instead of what the target would get: an AWS service integration, a
   * function the team already has. The target's declaration stays the route table's (auth, scope).
   */
  readonly integrations?: Readonly<Record<string, Integration>>;
  /** A handler group's Lambda entry file, by group name. @default the group folder's index (lambdas/api/<name>/) */
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /**
   * The bookkeeper's entry file, or false for no bookkeeper (then nothing writes the authorizer's usage counts and
   * refusal events). @default lambdas/bookkeeper/handler when it exists
   */
  readonly bookkeeperEntry?: string | false;
  readonly bundling?: GatehouseBundling;
}

export class GatehouseApi extends Construct {
  readonly restApi: IRestApi;
  readonly authorizerFunction: GatehouseFunction;
  readonly authorizer: RequestAuthorizer;
  /** One function per handler group, by group name. */
  readonly handlers: Readonly<Record<string, GatehouseFunction>>;
  /** One function per Lambda target (not overridden by `integrations`), by target name. */
  readonly targetFunctions: Readonly<Record<string, GatehouseFunction>>;
  /** The bookkeeper (absent without an entry) and its dead-letter queue. */
  readonly bookkeeper?: GatehouseFunction;
  readonly bookkeeperDeadLetters?: Queue;
  readonly bookkeepingSubscription?: SubscriptionFilter;
  /** Every route's method, by route key (`GET /v1/keys`). */
  readonly methods: Readonly<Record<string, Method>>;
  readonly gatewayResponses: readonly GatewayResponse[];
  /** The usage plan carrying plan decisions, when plans limit anything (docs/plans.md). */
  readonly usagePlan?: UsagePlan;
  /** The OpenAPI document bundled into the openapi function (when the app serves it). */
  readonly openApiDocument?: Record<string, unknown>;
  /** Each handler group's bundle values (its bundle hook), by group name: what its function carries in its code. */
  readonly bundles: Readonly<Record<string, DeploymentValues>>;
  /** The browser console's URL, when the app serves it on a REST API whose stage Gatehouse can see. */
  readonly consoleUrl?: string;
  /** The console's app client on the user pool, when the identity has a managed-login domain to sign in through. */
  readonly consoleClient?: UserPoolClient;
  /** Access and execution log groups of a REST API Gatehouse created. */
  readonly accessLogs?: LogGroup;
  readonly executionLogs?: LogGroup;
  readonly webAclAssociation?: CfnWebACLAssociation;
  /** The custom domain (config customDomain), when configured: then the only way in. */
  readonly domain?: GatehouseDomain;

  constructor(scope: Construct, id: string, props: GatehouseApiProps) {
    super(scope, id);
    const config = props.config ?? defaultConfig();
    const app = props.app ?? GATEHOUSE_APP;
    const { groups, network, data } = props;
    const logRetention = retention(config.infra.logRetentionDays);
    const deployment = config.infra.stackPrefix;
    checkDeclaration(app, groups, props.integrations ?? {});
    // The anonymous principal's scopes must be the deployment's and never credential scopes: fail synthesis, not a cold start.
    const anonymousScopes = anonymousScopesFor(config, app.api);
    if (props.existingRestApi && props.restApiProps) throw new Error('GatehouseApi: pass existingRestApi or restApiProps, not both');

    const define = apiDefinitionDefine(app.api);
    // Plans that limit anything need the usage keys; derived from the construct's place, so a redeploy keeps them.
    const usageKeys = new PlanCatalog(config.settings.plans).limitsAnything ? usageKeysFor(`${deployment}:${this.node.path}`) : undefined;
    const routesOf = (handler: string) => app.api.routes.filter((r) => r.handler === handler);
    const describeRoutes = (handler: string) => routesOf(handler).map(routeKeyOf).join(', ');

    // --- REST API --------------------------------------------------------------------------------------------------
    if (props.existingRestApi) {
      this.restApi = props.existingRestApi;
    } else {
      const created = createGatehouseRestApi(this, config, props.restApiProps);
      this.restApi = created.restApi;
      this.accessLogs = created.accessLogs;
      this.executionLogs = created.executionLogs;
    }
    const customDomain = config.infra.customDomain;
    if (customDomain) {
      if (props.existingRestApi || !this.stage) throw new Error('GatehouseApi: customDomain needs a REST API Gatehouse creates; on your own, use GatehouseDomain and disable its execute-api endpoint');
      this.domain = new GatehouseDomain(this, 'CustomDomain', { domain: customDomain, restApi: this.restApi, stage: this.stage, ...(props.baseDir ? { baseDir: props.baseDir } : {}) });
    }

    // --- The console's sign-in: its own app client, registered with the console's URL -----------------------------
    const consolePath = groups.has(CONSOLE_GROUP) ? consolePathOf(app.api) : undefined;
    this.consoleUrl = consolePath === undefined ? undefined : this.stageUrlForPath(consolePath);
    const cognito = props.identity.cognito;
    let consoleSignIn: GatehouseConsoleSignIn | undefined;
    if (this.consoleUrl !== undefined && cognito?.domain) {
      consoleSignIn = new GatehouseConsoleSignIn(this, 'ConsoleSignIn', {
        issuer: { ...cognito, domain: cognito.domain },
        scopes: app.api.scopes.forGroups(app.api.scopes.groups),
        consoleUrl: this.consoleUrl,
      });
      this.consoleClient = consoleSignIn.client;
    }
    // The authorizer accepts the console client's tokens too (the same pool, the same scopes and groups).
    const cognitoSetting = consoleSignIn && cognito ? cognitoSettingOf(this, cognito, [consoleSignIn.client.userPoolClientId]) : props.identity.cognitoSetting;

    // --- Functions -------------------------------------------------------------------------------------------------
    this.authorizerFunction = new GatehouseFunction(this, 'Authorizer', {
      entry: 'lambdas/authorizer/handler',
      description: 'authorizer: API keys, Cognito and OIDC tokens',
      network,
      logRetention,
      memorySize: 1024,
      timeout: Duration.seconds(6),
      define,
      deployment,
      ...props.bundling,
      environment: {
        ...settingsEnvironment(AUTHORIZER_SETTINGS, config, {
          tableName: data.table.tableName,
          pepperSecretId: data.pepper.secretArn,
          cognito: cognitoSetting,
          oidcIssuers: props.identity.oidcIssuersSetting,
          // Explicit, so the template says what anonymous callers hold (the bundled catalog would give the same default).
          // An empty list is written `none`: an empty variable would read as unset, i.e. the declared default.
          anonymousScopes: anonymousScopes.length > 0 ? anonymousScopes.join(' ') : NO_SCOPES,
          ...(usageKeys ? { usageKeys: JSON.stringify(usageKeys) } : {}),
        }),
        // No internet from the VPC: JWKS come from the table, where the JWKS mirror keeps them (GatehouseIdentity).
        [JWKS_SOURCE_ENV]: JWKS_SOURCE_STORE,
      },
    });
    this.authorizerFunction.role.addToPolicy(new PolicyStatement({ actions: tableActions(AUTHORIZER_TABLE_ACTIONS), resources: [data.table.tableArn] }));
    this.authorizerFunction.role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [data.pepper.secretArn] }));

    const bundleContext: BundleContext = { api: app.api, groups, title: app.title };
    const bundles: Record<string, DeploymentValues> = {};
    const handlers: Record<string, GatehouseFunction> = {};
    for (const [name, group] of groups) {
      const entry = props.handlerEntries?.[name] ?? groupEntryFile(name);
      if (!entry) throw new Error(`Handler group ${name} has no entry file: create lambdas/api/${name}/index.ts or pass handlerEntries`);
      bundles[name] = bundleValues(group, bundleContext);
      const fn = new GatehouseFunction(this, `Handler-${name}`, {
        entry,
        description: `handler: ${describeRoutes(name)}`,
        network: placement(group.access, network, `Handler group ${name}`),
        logRetention,
        define: { ...define, ...bundleValuesDefine(bundles[name]) },
        deployment,
        ...props.bundling,
        environment: {
          ...settingsEnvironment(API_SETTINGS, config, { tableName: data.table.tableName, pepperSecretId: data.pepper.secretArn }),
          ...(name === CONSOLE_GROUP && consoleSignIn ? { [CONSOLE_SIGN_IN_ENV]: consoleSignIn.setting } : {}),
        },
      });
      for (const statement of accessStatements(group.access, `Handler group ${name}`, data)) fn.role.addToPolicy(statement);
      handlers[name] = fn;
    }
    this.handlers = handlers;
    this.bundles = bundles;
    const openApi = bundles[OPENAPI_GROUP]?.[OPENAPI_DOCUMENT_ENV];
    if (openApi !== undefined) this.openApiDocument = decodeOpenApiDocument(openApi);

    const targetFunctions: Record<string, GatehouseFunction> = {};
    for (const [name, target] of Object.entries(app.targets)) {
      if (target.kind !== 'lambda' || props.integrations?.[name]) continue;
      targetFunctions[name] = this.targetFunction(name, target, `target ${name}: ${describeRoutes(name)}`, props, logRetention);
    }
    this.targetFunctions = targetFunctions;

    // --- Bookkeeper: the authorizer's usage counts and refusal events, from its log lines -------------------------
    const bookkeeperEntry = props.bookkeeperEntry === false ? undefined : (props.bookkeeperEntry ?? defaultBookkeeperEntry());
    if (bookkeeperEntry) {
      // CloudWatch Logs invokes it asynchronously: a batch it fails is retried, then kept, never dropped.
      this.bookkeeperDeadLetters = new Queue(this, 'BookkeeperDeadLetters', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
      this.bookkeeper = new GatehouseFunction(this, 'Bookkeeper', {
        entry: bookkeeperEntry,
        description: "bookkeeper: usage counts and refusal events from the authorizer's log lines",
        network,
        logRetention,
        memorySize: 256,
        timeout: Duration.seconds(30),
        define,
        deployment,
        handler: BOOKKEEPER.handler,
        asyncInvoke: { retryAttempts: 2, maxEventAge: Duration.hours(6), deadLetterQueue: this.bookkeeperDeadLetters },
        ...props.bundling,
        environment: settingsEnvironment(BOOKKEEPER.settings, config, { tableName: data.table.tableName }),
      });
      placement(BOOKKEEPER.access, network, 'Bookkeeper');
      // Its declared table actions, and only on the partitions it writes (usage counters, tenants' audit events).
      this.bookkeeper.role.addToPolicy(
        new PolicyStatement({
          actions: tableActions(BOOKKEEPER.access.table),
          resources: [data.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...BOOKKEEPER.leadingKeys] } },
        }),
      );
      this.bookkeepingSubscription = new SubscriptionFilter(this, 'BookkeepingSubscription', {
        logGroup: this.authorizerFunction.logGroup,
        destination: new LambdaDestination(this.bookkeeper.fn),
        filterPattern: FilterPattern.literal(BOOKKEEPER.filterPattern),
      });
    }

    // --- Plans: one usage plan whose single API key the authorizer names for an allowed request (docs/plans.md) ----
    this.usagePlan = usageKeys ? addPlanSignals(this, this.restApi, usageKeys) : undefined;

    const caching = authorizerCachingOf(config.settings);
    this.authorizer = gatehouseRequestAuthorizer(this, 'RequestAuthorizer', this.authorizerFunction.fn, caching);

    const lambdaIntegrations = new Map<string, Integration>();
    const integrationFor = (route: Route): Integration => {
      const override = props.integrations?.[route.handler];
      if (override) return override;
      const target = app.targets[route.handler];
      if (target?.kind === 'http') return httpTargetIntegration(target, route);
      let integration = lambdaIntegrations.get(route.handler);
      if (!integration) {
        const fn = handlers[route.handler] ?? targetFunctions[route.handler]!;
        integration = new LambdaIntegration(fn.fn, { proxy: true, allowTestInvoke: false });
        lambdaIntegrations.set(route.handler, integration);
      }
      return integration;
    };
    const methodOptions = (route: Route): MethodOptions => {
      const target = app.targets[route.handler];
      const parameters = target?.kind === 'http' && !props.integrations?.[route.handler] ? { requestParameters: methodPathParameters(route) } : {};
      switch (route.auth) {
        case 'public':
          return { authorizationType: AuthorizationType.NONE, ...parameters };
        case 'token':
          // With plans, the key comes from the authorizer (apiKeySource AUTHORIZER): never from the client.
          return { authorizationType: AuthorizationType.CUSTOM, authorizer: this.authorizer, ...(usageKeys ? { apiKeyRequired: true } : {}), ...parameters };
        case 'iam':
          return { authorizationType: AuthorizationType.IAM, ...parameters };
      }
    };

    const resources = new Map<string, IResource>();
    const methods: Record<string, Method> = {};
    for (const route of app.api.routes) {
      const resource = this.restApi.root.resourceForPath(route.path);
      resources.set(route.path, resource);
      const method = resource.addMethod(route.method, integrationFor(route), methodOptions(route));
      // Gatehouse's own public and IAM routes are so by its contract; a team's target routes by the team's declaration.
      const own = groups.has(route.handler);
      const publicReason = own ? 'publicRoute' : 'declaredPublicRoute';
      if (route.auth === 'public') acknowledge(method, 'AwsSolutions-APIG4', publicReason);
      acknowledge(method, 'AwsSolutions-COG4', route.auth === 'public' ? publicReason : route.auth === 'iam' ? (own ? 'iamRoute' : 'declaredIamRoute') : 'lambdaAuthorizer');
      methods[routeKeyOf(route)] = method;
    }
    this.methods = methods;

    // --- CORS (only when origins are configured) -------------------------------------------------------------------
    const origins = config.settings.corsOrigins;
    if (origins.length > 0) {
      for (const [path, resource] of resources) {
        resource.addCorsPreflight({
          allowOrigins: origins,
          allowHeaders: CORS_ALLOW_HEADERS,
          allowMethods: [...new Set(app.api.routes.filter((r) => r.path === path).map((r) => r.method))],
          allowCredentials: true,
          maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
          statusCode: 204,
        });
      }
    }

    // --- Gateway responses: the error envelope for everything API Gateway answers itself ---------------------------
    this.gatewayResponses = props.gatewayResponses === false ? [] : addGatewayResponses(this, this.restApi, origins, gatewayResponsesFor(caching));

    // --- WAF -------------------------------------------------------------------------------------------------------
    if (props.webAclArn) {
      this.webAclAssociation = new CfnWebACLAssociation(this, 'WafAssociation', { resourceArn: this.restApi.deploymentStage.stageArn, webAclArn: props.webAclArn });
    }
  }

  /** Every function this construct created: the authorizer, the handlers, the targets, the bookkeeper. */
  get functions(): GatehouseFunction[] {
    return [this.authorizerFunction, ...Object.values(this.handlers), ...Object.values(this.targetFunctions), ...(this.bookkeeper ? [this.bookkeeper] : [])];
  }

  /**
   * The URL of `path` on the deployment stage, from the REST API's id and the stage's NAME as written in its
   * template — not the stage's Ref: the console's client is registered with this URL and the console function
   * reads the client's id, and the stage depends (through the deployment and the methods) on that function.
   */
  private stageUrlForPath(path: string): string | undefined {
    if (this.domain) return `${this.domain.url}${path}`;
    const stage = this.stage;
    if (!stage) return undefined;
    const declared = (stage.node.defaultChild as CfnStage | undefined)?.stageName;
    const stack = Stack.of(this);
    return `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${declared ?? stage.stageName}${path}`;
  }

  /** The API's base URL: on the custom domain when there is one, else the stage's execute-api URL. */
  get apiUrl(): string | undefined {
    return this.domain?.url ?? this.stage?.urlForPath('/');
  }

  /** The REST API's deployment stage, when it has one Gatehouse can see (not on an imported REST API). */
  get stage(): Stage | undefined {
    try {
      return this.restApi.deploymentStage;
    } catch {
      return undefined;
    }
  }

  private targetFunction(name: string, target: LambdaTarget, description: string, props: GatehouseApiProps, logRetention: ReturnType<typeof retention>): GatehouseFunction {
    const access = target.access ?? {};
    const fn = new GatehouseFunction(this, `Target-${name}`, {
      entry: isAbsolute(target.entry) ? target.entry : resolve(props.baseDir ?? process.cwd(), target.entry),
      handler: target.handler ?? 'handler',
      description,
      network: placement(access, props.network, `Target ${name}`),
      logRetention,
      ...(target.memorySize !== undefined ? { memorySize: target.memorySize } : {}),
      ...(target.timeoutSeconds !== undefined ? { timeout: Duration.seconds(target.timeoutSeconds) } : {}),
      deployment: (props.config ?? defaultConfig()).infra.stackPrefix,
      // The team's code, the team's credential sources: the SDK's default chain stays in its bundle.
      sdkCredentialChain: true,
      ...props.bundling,
      environment: { ...target.environment },
    });
    for (const statement of accessStatements(access, `Target ${name}`)) fn.role.addToPolicy(statement);
    return fn;
  }
}

/**
 * Where a function runs: outside any VPC for `network: 'internet'`, else in the network — which must reach every
 * endpoint it declares (checked when the network says what it reaches).
 */
function placement(access: { readonly network?: 'isolated' | 'internet'; readonly endpoints?: readonly string[] }, network: FunctionNetwork, owner: string): FunctionNetwork | undefined {
  if (access.network === 'internet') return undefined;
  const missing = (access.endpoints ?? []).filter((name) => network.services !== undefined && !network.services.has(name));
  if (missing.length > 0) {
    throw new Error(`${owner} calls ${missing.join(', ')}, which the network has no endpoint for: pass requiredEndpoints(groups, targets) as GatehouseNetwork endpoints`);
  }
  return network;
}

/** Every route is served by a loaded group or a declared target; every group and override serves something. */
function checkDeclaration(app: GatehouseApp, groups: ReadonlyMap<string, HandlerGroup>, integrations: Readonly<Record<string, Integration>>): void {
  const handlers = new Set(app.api.routes.map((r) => r.handler));
  for (const route of app.api.routes) {
    if (!groups.has(route.handler) && !app.targets[route.handler]) {
      throw new Error(`Route ${routeKeyOf(route)} names handler group ${route.handler}, which is not loaded: pass loadAppGroups(app) as groups`);
    }
  }
  for (const [name, group] of groups) {
    if (group.name !== name) throw new Error(`Handler group ${group.name} is loaded under the name ${name}`);
    if (!handlers.has(name)) throw new Error(`Handler group ${name} serves no route of the app`);
    if (app.targets[name]) throw new Error(`${name} is both a handler group and a target`);
  }
  for (const name of Object.keys(integrations)) {
    if (!app.targets[name]) throw new Error(`integrations.${name}: the app declares no target ${name}`);
  }
  for (const name of Object.keys(app.targets)) {
    if (!handlers.has(name)) throw new Error(`Target ${name} serves no route of the app`);
  }
}
