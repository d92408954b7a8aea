/**
 * Issue 12 (B): a team puts Gatehouse in front of its own REST API with the construct library (infra/index.ts, the
 * `gatehouse/cdk` entry). The team's stack has a REST API of its own; its app (fixtures/weather-app.ts) declares its
 * scopes and routes, a Lambda target, an HTTP target, a target with an integration the team supplies, and mounts
 * Gatehouse's routes under /gatehouse. Synthesised once without bundling; one test synthesises a smaller app with
 * bundling to check what esbuild puts into the functions.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, LogGroupLogDestination, MethodLoggingLevel, MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ENVIRONMENT_CREDENTIALS } from '../../lambdas/core/lambda-credentials.js';
import { API_DEFINITION_ENV, decodeApiDefinition } from '../../lambdas/core/api-definition.js';
import { OPENAPI_DOCUMENT_ENV } from '../../lambdas/api/openapi/operations.js';
import { inflateRawSync } from 'node:zlib';
import { GATEHOUSE_CREDENTIAL_HEADERS } from '../../lambdas/core/principal-headers.js';
import { DEPLOYMENT_ENV } from '../../lambdas/core/metrics-catalog.js';
import {
  defineApp,
  Gatehouse,
  GATEHOUSE_ACCESS_LOG_FIELDS,
  gatehouseConfig,
  loadAppGroups,
  NAG_REASONS,
  PRINCIPAL_HEADERS,
  type GatehouseApp,
  type HandlerGroup,
} from '../../infra/index.js';
import { WEATHER_APP } from './fixtures/weather-app.js';
import { resourcesOf } from './synth.js';
import { grantsOf, idOf, json, methodsByRoute, props, statementsOfRole, type Props } from './template.js';

process.env.CDK_VALIDATION = 'false';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The team's own stack and REST API, configured the way cdk-nag asks of any REST API. */
function teamStack(cdkApp: App): { stack: Stack; restApi: RestApi } {
  const stack = new Stack(cdkApp, 'WeatherService');
  const accessLogs = new LogGroup(stack, 'WeatherAccessLogs', { retention: RetentionDays.ONE_YEAR });
  const restApi = new RestApi(stack, 'WeatherApi', {
    cloudWatchRole: true,
    deployOptions: {
      stageName: 'live',
      tracingEnabled: true,
      loggingLevel: MethodLoggingLevel.ERROR,
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: AccessLogFormat.custom(JSON.stringify(GATEHOUSE_ACCESS_LOG_FIELDS)),
    },
  });
  // The team's own decisions about its own API, not Gatehouse's.
  Validations.of(restApi).acknowledge({ id: 'AwsSolutions-APIG2', reason: 'the team validates requests in its services' });
  Validations.of(restApi.node.findChild('CloudWatchRole')).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason: 'the account-level role API Gateway writes execution logs with',
  });
  // A resource the team created before Gatehouse: Gatehouse adds its methods to it rather than a second one.
  restApi.root.addResource('forecasts');
  return { stack, restApi };
}

const CONFIG = gatehouseConfig({ stackPrefix: 'Weather', corsOrigins: [], logRetentionDays: 365 });

let cdkApp: App;
let gatehouse: Gatehouse;
let template: Template;
let groups: ReadonlyMap<string, HandlerGroup>;
let methods: Map<string, Props>;

beforeAll(async () => {
  groups = await loadAppGroups(WEATHER_APP);
  cdkApp = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const { stack, restApi } = teamStack(cdkApp);
  gatehouse = new Gatehouse(stack, 'Gatehouse', {
    app: WEATHER_APP,
    groups,
    config: CONFIG,
    existingRestApi: restApi,
    baseDir: FIXTURES,
    integrations: { radar: new MockIntegration({ integrationResponses: [{ statusCode: '200' }], requestTemplates: { 'application/json': '{"statusCode": 200}' } }) },
  });
  template = Template.fromJSON(cdkApp.synth().getStackByName(stack.stackName).template as Record<string, unknown>);
  methods = methodsByRoute(template);
});

const roleGrants = (role: Parameters<typeof idOf>[0]) => grantsOf(statementsOfRole(template, idOf(role)));
const fnProps = (fn: Parameters<typeof idOf>[0]) => props(resourcesOf(template, 'AWS::Lambda::Function')[idOf(fn)]!);

describe('routes on the team’s REST API', () => {
  it('adds a method for every route — the team’s and Gatehouse’s under /gatehouse — and nothing else', () => {
    expect([...methods.keys()].sort()).toEqual(WEATHER_APP.api.routes.map((r) => `${r.method} ${r.path}`).sort());
    expect([...methods.keys()]).toContain('POST /gatehouse/v1/keys');
    expect([...methods.keys()].some((k) => k.includes('/v1/items'))).toBe(false);
    // The team's /forecasts resource was reused, not duplicated.
    const forecasts = Object.values(resourcesOf(template, 'AWS::ApiGateway::Resource')).filter((r) => props(r).PathPart === 'forecasts');
    expect(forecasts).toHaveLength(1);
  });

  it('puts the REQUEST authorizer on token routes, IAM on iam routes and nothing on public routes', () => {
    const authorizerId = idOf(gatehouse.api.authorizer);
    for (const route of WEATHER_APP.api.routes) {
      const m = methods.get(`${route.method} ${route.path}`)!;
      const expected = { token: 'CUSTOM', iam: 'AWS_IAM', public: 'NONE' }[route.auth];
      expect(m.AuthorizationType, `${route.method} ${route.path}`).toBe(expected);
      if (route.auth === 'token') expect(m.AuthorizerId).toEqual({ Ref: authorizerId });
      else expect(m.AuthorizerId).toBeUndefined();
    }
    const authorizer = props(Object.values(resourcesOf(template, 'AWS::ApiGateway::Authorizer'))[0]!);
    expect(authorizer).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
    expect(json(authorizer.RestApiId)).toContain(idOf(gatehouse.api.restApi));
  });

  it('proxies HTTP target routes to url + path with the path parameters mapped, and the principal in X-Gatehouse-* from the authorizer context', () => {
    const post = methods.get('POST /stations/{stationId}/readings')!;
    expect(post.RequestParameters).toEqual({ 'method.request.path.stationId': true });
    const integration = post.Integration as Props;
    expect(integration).toMatchObject({
      Type: 'HTTP_PROXY',
      IntegrationHttpMethod: 'POST',
      Uri: 'https://stations.internal.example.com/api/stations/{stationId}/readings',
      TimeoutInMillis: 10_000,
    });
    const mappings = integration.RequestParameters as Record<string, string>;
    expect(mappings['integration.request.path.stationId']).toBe('method.request.path.stationId');
    for (const [header, key] of Object.entries(PRINCIPAL_HEADERS)) expect(mappings[`integration.request.header.${header}`], header).toBe(`context.authorizer.${key}`);
    // The credential the gateway checked never reaches the service (it could replay the caller's key).
    for (const header of GATEHOUSE_CREDENTIAL_HEADERS) expect(mappings[`integration.request.header.${header}`], header).toBe("''");
    expect(Object.keys(mappings)).toHaveLength(1 + Object.keys(PRINCIPAL_HEADERS).length + GATEHOUSE_CREDENTIAL_HEADERS.length);
  });

  it('blanks every X-Gatehouse-* header on a public HTTP target route, so a client cannot forge a principal there', () => {
    const integration = methods.get('GET /stations')!.Integration as Props;
    expect(integration).toMatchObject({ Type: 'HTTP_PROXY', IntegrationHttpMethod: 'GET', Uri: 'https://stations.internal.example.com/api/stations' });
    const mappings = integration.RequestParameters as Record<string, string>;
    for (const header of Object.keys(PRINCIPAL_HEADERS)) expect(mappings[`integration.request.header.${header}`], header).toBe("''");
    // Nothing was checked on a public route: the client's own Authorization is the service's business.
    for (const header of GATEHOUSE_CREDENTIAL_HEADERS) expect(mappings[`integration.request.header.${header}`], header).toBeUndefined();
  });

  it('integrates Lambda targets and handler groups by proxy, and uses the team’s own integration where given', () => {
    const forecast = methods.get('GET /forecasts/{city}')!.Integration as Props;
    expect(forecast).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
    expect(json(forecast.Uri)).toContain(idOf(gatehouse.api.targetFunctions.forecasts!.fn));
    const keys = methods.get('POST /gatehouse/v1/keys')!.Integration as Props;
    expect(json(keys.Uri)).toContain(idOf(gatehouse.api.handlers.keys!.fn));
    expect((methods.get('GET /radar')!.Integration as Props).Type).toBe('MOCK');
    expect(gatehouse.api.targetFunctions.radar).toBeUndefined();
  });

  it('adds the gateway responses and associates the web ACL with the team’s stage', () => {
    expect(Object.keys(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).length).toBeGreaterThan(0);
    const association = props(Object.values(resourcesOf(template, 'AWS::WAFv2::WebACLAssociation'))[0]!);
    expect(json(association.ResourceArn)).toContain('WeatherApiDeploymentStagelive');
  });
});

describe('functions', () => {
  it('creates one function per mounted handler group and per Lambda target, each with exactly its declared access', () => {
    expect(Object.keys(gatehouse.api.handlers).sort()).toEqual([...groups.keys()].sort());
    expect(Object.keys(gatehouse.api.handlers)).not.toContain('items');
    for (const [name, group] of groups) {
      const grants = roleGrants(gatehouse.api.handlers[name]!.role);
      const onTable = grants.filter((g) => g.action.startsWith('dynamodb:') && !g.resource.includes('/index/'));
      const onIndex = grants.filter((g) => g.action.startsWith('dynamodb:') && g.resource.includes('/index/'));
      expect(onTable.map((g) => g.action).sort(), name).toEqual((group.access.table ?? []).map((a) => `dynamodb:${a}`).sort());
      expect(onIndex.map((g) => g.action).sort(), name).toEqual((group.access.index ?? []).map((a) => `dynamodb:${a}`).sort());
      expect(grants.some((g) => g.action === 'secretsmanager:GetSecretValue'), name).toBe(group.access.pepper === true);
    }
  });

  it('gives the authorizer the team catalog’s anonymous default, not Gatehouse’s own (none configured)', () => {
    const env = (fnProps(gatehouse.api.authorizerFunction.fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(WEATHER_APP.api.scopes.anonymousDefault).toEqual(['usage:read']);
    expect(env.GATEHOUSE_ANONYMOUS_SCOPES).toBe('usage:read');
  });

  it('builds the Lambda target from its entry (relative to baseDir) with its handler, settings and exactly its statements', () => {
    const target = gatehouse.api.targetFunctions.forecasts!;
    expect(target.entry).toBe(join(FIXTURES, 'forecasts.ts'));
    const fn = fnProps(target.fn);
    expect(fn).toMatchObject({ Handler: 'index.forecast', MemorySize: 256, Timeout: 5, Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    // Its own environment, plus the deployment's name for metrics (issue 13).
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toEqual({ FORECAST_PROVIDER: 'met', [DEPLOYMENT_ENV]: 'Weather' });
    expect(fn.VpcConfig).toBeDefined();
    const grants = roleGrants(target.role);
    expect(grants.filter((g) => !/^(logs|ec2|xray):/.test(g.action))).toEqual([
      { action: 'ssm:GetParameter', resource: json({ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/weather/provider-key' }) },
    ]);
    // The endpoint it declared exists in the network.
    const endpoints = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint')).map(props);
    expect(endpoints.filter((e) => json(e.ServiceName).includes('.ssm"')).map((e) => e.VpcEndpointType)).toEqual(['Interface']);
  });

  it('bundles the deployment’s declaration into every Gatehouse function, and the OpenAPI document into the openapi function', () => {
    const functions = [gatehouse.api.authorizerFunction, ...Object.values(gatehouse.api.handlers), gatehouse.data.bootstrapFunction];
    for (const fn of functions) {
      const encoded = JSON.parse(fn.define[`process.env.${API_DEFINITION_ENV}`]!) as string;
      expect(decodeApiDefinition(encoded), fn.node.path).toEqual(JSON.parse(JSON.stringify(WEATHER_APP.api.definition)));
    }
    const openapi = JSON.parse(gatehouse.api.handlers.openapi!.define[`process.env.${OPENAPI_DOCUMENT_ENV}`]!) as string;
    const document = JSON.parse(inflateRawSync(Buffer.from(openapi, 'base64url')).toString('utf8')) as { info: { title: string }; paths: Record<string, unknown> };
    expect(document.info.title).toBe('Weather');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/forecasts/{city}', '/stations/{stationId}/readings', '/gatehouse/v1/keys']));
    expect(gatehouse.api.handlers.keys!.define[`process.env.${OPENAPI_DOCUMENT_ENV}`]).toBeUndefined();
    // The team's own functions are not Gatehouse's: they get no declaration.
    expect(gatehouse.api.targetFunctions.forecasts!.define).toEqual({});
  });
});

describe('identity from the catalog', () => {
  it('makes the resource server from every scope with its description, and a Cognito group for every group a scope names', () => {
    const server = props(Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolResourceServer'))[0]!);
    const scopes = server.Scopes as { ScopeName: string; ScopeDescription: string }[];
    expect(scopes.map((s) => s.ScopeName)).toEqual([...WEATHER_APP.api.scopes.all]);
    expect(scopes.find((s) => s.ScopeName === 'weather:read')!.ScopeDescription).toBe('Read forecasts');
    const groupsCreated = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolGroup')).map((g) => props(g).GroupName);
    expect(groupsCreated.sort()).toEqual(['admins', 'forecasters', 'users']);
  });
});

describe('cdk-nag', () => {
  it('reports nothing for Gatehouse’s constructs in the team’s app', () => {
    const report = new AwsSolutionsChecks().validateScope(cdkApp);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('acknowledges a team’s public route with the team’s declaration as the reason, Gatehouse’s own with its contract', () => {
    const reasonsOn = (method: IConstruct) =>
      method.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(reasonsOn(gatehouse.api.methods['GET /stations']!)).toEqual([NAG_REASONS.declaredPublicRoute, NAG_REASONS.declaredPublicRoute]);
    expect(reasonsOn(gatehouse.api.methods['GET /gatehouse/health']!)).toEqual([NAG_REASONS.publicRoute, NAG_REASONS.publicRoute]);
    expect(reasonsOn(gatehouse.api.methods['POST /gatehouse/v1/verify']!)).toEqual([NAG_REASONS.iamRoute]);
  });
});

describe('bundled (esbuild runs: one small app)', () => {
  let outdir: string;
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('replaces process.env.GATEHOUSE_API_DEFINITION and …_OPENAPI_DOCUMENT in the bundles with the deployment’s encoded texts', async () => {
    const small: GatehouseApp = defineApp({ ...WEATHER_APP.definition, gatehouse: { basePath: '/gatehouse', groups: ['health', 'openapi'] } });
    const smallGroups = await loadAppGroups(small);
    outdir = mkdtempSync(join(tmpdir(), 'gatehouse-bundled-'));
    // Asset metadata ties each function to its bundle folder (the CLI turns it on; a test App must ask).
    const bundledApp = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const { stack, restApi } = teamStack(bundledApp);
    const built = new Gatehouse(stack, 'Gatehouse', { app: small, groups: smallGroups, config: CONFIG, existingRestApi: restApi, baseDir: FIXTURES, waf: false });
    const assembly = bundledApp.synth();
    const bundled = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
    const bundleOf = (fn: Parameters<typeof idOf>[0]) => {
      const fnResource = resourcesOf(bundled, 'AWS::Lambda::Function')[idOf(fn)]!;
      const asset = (fnResource as { Metadata?: Record<string, string> }).Metadata?.['aws:asset:path'];
      return readFileSync(join(assembly.directory, asset!, 'index.mjs'), 'utf8');
    };
    const definition = JSON.parse(built.api.authorizerFunction.define[`process.env.${API_DEFINITION_ENV}`]!) as string;
    for (const fn of [built.api.authorizerFunction, built.api.handlers.health!, built.data.bootstrapFunction]) {
      const code = bundleOf(fn.fn);
      expect(code, fn.node.path).toContain(definition);
      expect(code, fn.node.path).not.toContain(`process.env.${API_DEFINITION_ENV}`);
    }
    // Issue 16: the SDK's default credential chain is replaced by the environment credentials (--alias via esbuildArgs).
    for (const fn of [built.api.authorizerFunction, built.data.bootstrapFunction]) {
      const code = bundleOf(fn.fn);
      expect(code, fn.node.path).toContain(NO_ENVIRONMENT_CREDENTIALS);
      expect(code, fn.node.path).not.toContain('defaultProvider::fromSSO');
      expect(code, fn.node.path).not.toContain('AssumeRoleWithWebIdentity');
    }
    const openapi = bundleOf(built.api.handlers.openapi!.fn);
    expect(openapi).toContain(JSON.parse(built.api.handlers.openapi!.define[`process.env.${OPENAPI_DOCUMENT_ENV}`]!) as string);
    expect(openapi).not.toContain(`process.env.${OPENAPI_DOCUMENT_ENV}`);
    // The team's target is bundled from the fixture with its named export.
    expect(bundleOf(built.api.targetFunctions.forecasts!.fn)).toMatch(/export\s*\{[^}]*as forecast/);
  }, 120_000);
});
