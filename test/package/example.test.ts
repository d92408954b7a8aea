/**
 * Issue 12 (B), the library as a team uses it: examples/existing-api is a team's CDK app with its OWN RestApi, a
 * Lambda function of its own (GET /reports, reports:read) and an HTTP service (GET /weather/{city}, weather:read),
 * protected by Gatehouse through the public entry points only (`gatehouse`, `gatehouse/cdk`, `gatehouse/runtime`;
 * here they resolve to the sources through vitest's alias and tsconfig paths, see vitest.config.mts).
 *
 * 1. Synthesised offline (bundling skipped, the example's own cdk.json context), checked by cdk-nag as its
 *    bin/app.ts registers it, and its template read: authorizer, scopes, integrations, the /gatehouse mount.
 * 2. The same declaration served by the local stack, as `gatehouse-local --app gatehouse.app.ts` serves it, with the
 *    weather service replaced by a local echo server through WEATHER_SERVICE_URL: 401, 403 and 200 over real HTTP.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GATEHOUSE_API, type GatehouseApp } from 'gatehouse';
import { GATEHOUSE_ACCESS_LOG_FIELDS, loadAppGroups, PRINCIPAL_HEADERS, type HandlerGroup } from 'gatehouse/cdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, app as REPORTS_APP, reportsApp, WEATHER_SERVICE_URL } from '../../examples/existing-api/gatehouse.app.js';
import { ReportsStack } from '../../examples/existing-api/lib/stack.js';
import { API_DEFINITION_ENV, decodeApiDefinition } from '../../lambdas/core/api-definition.js';
import { GATEHOUSE_CREDENTIAL_HEADERS } from '../../lambdas/core/principal-headers.js';
import { loadAppFile } from '../../local/app-file.js';
import { bearer, expectProblem, jsonBody, startTestStack, type TestStack } from '../local/support.js';
import { startEchoUpstream, type EchoUpstream } from '../local/upstream.js';
import { resourcesOf } from '../infra/synth.js';
import { idOf, json, methodsByRoute, props, type Props } from '../infra/template.js';

const EXAMPLE_CONTEXT = (JSON.parse(readFileSync(join(APP_DIR, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

let groups: ReadonlyMap<string, HandlerGroup>;
let cdkApp: App;
let stack: ReportsStack;
let template: Template;
let methods: Map<string, Props>;

beforeAll(async () => {
  // What bin/app.ts does, with the example's cdk.json context and no bundling (no esbuild run: pack.test.ts bundles).
  groups = await loadAppGroups(REPORTS_APP);
  cdkApp = new App({ context: { ...EXAMPLE_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  stack = new ReportsStack(cdkApp, 'ReportsService', { app: REPORTS_APP, groups, baseDir: APP_DIR });
  Validations.of(cdkApp).addPlugins(new AwsSolutionsChecks(cdkApp));
  const assembly = cdkApp.synth();
  template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
  methods = methodsByRoute(template);
});

describe('examples/existing-api synthesised (offline)', () => {
  it('passes cdk-nag AwsSolutions with no unacknowledged finding, and synthesis with the plugin registered as bin/app.ts does reports nothing', () => {
    const report = new AwsSolutionsChecks().validateScope(cdkApp);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    const reportFile = join(cdkApp.outdir, 'validation-report.json');
    if (existsSync(reportFile)) {
      const written = JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
      expect(written.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
    }
  });

  it("adds every route to the team's own REST API — its two routes and Gatehouse's under /gatehouse, without the sample items", () => {
    const restApis = Object.keys(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    expect(restApis).toEqual([idOf(stack.restApi)]);
    expect([...methods.keys()].sort()).toEqual(REPORTS_APP.api.routes.map((r) => `${r.method} ${r.path}`).sort());
    expect([...methods.keys()]).toEqual(expect.arrayContaining(['GET /reports', 'GET /weather/{city}', 'GET /gatehouse/v1/keys', 'POST /gatehouse/v1/keys', 'GET /gatehouse/v1/whoami', 'GET /gatehouse/health']));
    expect([...methods.keys()].some((k) => k.includes('/items'))).toBe(false);
    for (const method of methods.values()) expect(method.RestApiId).toEqual({ Ref: idOf(stack.restApi) });
    // The team's access log line is Gatehouse's (principal, tenant, key id; no header or body).
    const stage = props(Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0]!);
    expect(JSON.parse((stage.AccessLogSetting as { Format: string }).Format)).toEqual(GATEHOUSE_ACCESS_LOG_FIELDS);
  });

  it("puts the Gatehouse REQUEST authorizer on the team's routes and Gatehouse's token routes, IAM on verify, none on health", () => {
    const authorizer = { Ref: idOf(stack.gatehouse.api.authorizer) };
    for (const key of ['GET /reports', 'GET /weather/{city}', 'GET /gatehouse/v1/keys', 'GET /gatehouse/v1/whoami']) {
      expect(methods.get(key), key).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: authorizer });
    }
    expect(methods.get('POST /gatehouse/v1/verify')).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    expect(methods.get('GET /gatehouse/health')).toMatchObject({ AuthorizationType: 'NONE' });
    const authorizers = Object.values(resourcesOf(template, 'AWS::ApiGateway::Authorizer')).map(props);
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0, RestApiId: { Ref: idOf(stack.restApi) } });
  });

  it("bundles the deployment's API definition — the team's routes with their scopes, Gatehouse's mounted ones — into the authorizer", () => {
    const encoded = JSON.parse(stack.gatehouse.api.authorizerFunction.define[`process.env.${API_DEFINITION_ENV}`]!) as string;
    const definition = decodeApiDefinition(encoded);
    expect(definition.routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'GET', path: '/reports', auth: 'token', scope: 'reports:read', handler: 'reports' }),
        expect.objectContaining({ method: 'GET', path: '/weather/{city}', auth: 'token', scope: 'weather:read', handler: 'weather' }),
        expect.objectContaining({ method: 'POST', path: '/gatehouse/v1/keys', scope: 'keys:write' }),
      ]),
    );
    expect(Object.keys(definition.scopes)).toEqual(expect.arrayContaining(['reports:read', 'weather:read', 'keys:read', 'keys:write']));
    expect(Object.keys(definition.scopes)).not.toContain('items:read');
    // People get the team's scopes through the Cognito resource server and groups derived from the same declaration.
    const server = props(Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolResourceServer'))[0]!);
    expect((server.Scopes as { ScopeName: string }[]).map((s) => s.ScopeName)).toEqual(expect.arrayContaining(['reports:read', 'weather:read']));
  });

  it('proxies GET /weather/{city} to the weather service with the city mapped, the principal in X-Gatehouse-* and the credential blanked', () => {
    const method = methods.get('GET /weather/{city}')!;
    expect(method.RequestParameters).toEqual({ 'method.request.path.city': true });
    const integration = method.Integration as Props;
    expect(integration).toMatchObject({ Type: 'HTTP_PROXY', IntegrationHttpMethod: 'GET', Uri: `${WEATHER_SERVICE_URL}/weather/{city}`, TimeoutInMillis: 10_000 });
    const mappings = integration.RequestParameters as Record<string, string>;
    expect(mappings['integration.request.path.city']).toBe('method.request.path.city');
    for (const [header, key] of Object.entries(PRINCIPAL_HEADERS)) expect(mappings[`integration.request.header.${header}`], header).toBe(`context.authorizer.${key}`);
    for (const header of GATEHOUSE_CREDENTIAL_HEADERS) expect(mappings[`integration.request.header.${header}`], header).toBe("''");
  });

  it("integrates GET /reports with the team's function, built from src/reports.ts (relative to the declaration) with its settings", () => {
    const target = stack.gatehouse.api.targetFunctions.reports!;
    expect(target.entry).toBe(join(APP_DIR, 'src', 'reports.ts'));
    const integration = methods.get('GET /reports')!.Integration as Props;
    expect(integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
    expect(json(integration.Uri)).toContain(idOf(target.fn));
    const fn = props(resourcesOf(template, 'AWS::Lambda::Function')[idOf(target.fn)]!);
    expect(fn).toMatchObject({ Handler: 'index.handler', MemorySize: 256, Timeout: 5, Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    // Gatehouse's own routes are served by its handler groups, one function each.
    expect(Object.keys(stack.gatehouse.api.handlers).sort()).toEqual([...groups.keys()].sort());
    expect(json((methods.get('GET /gatehouse/v1/keys')!.Integration as Props).Uri)).toContain(idOf(stack.gatehouse.api.handlers.keys!.fn));
  });

  it("associates Gatehouse's web ACL with the team's own stage", () => {
    const association = props(Object.values(resourcesOf(template, 'AWS::WAFv2::WebACLAssociation'))[0]!);
    expect(json(association.ResourceArn)).toContain(idOf(stack.restApi.deploymentStage));
  });
});

describe('examples/existing-api on the local stack', () => {
  let upstream: EchoUpstream;
  let local: TestStack;
  let app: GatehouseApp;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    // The declaration reads WEATHER_SERVICE_URL when it is loaded, as `gatehouse-local --app gatehouse.app.ts` loads it.
    process.env.WEATHER_SERVICE_URL = upstream.url;
    try {
      app = reportsApp();
    } finally {
      delete process.env.WEATHER_SERVICE_URL;
    }
    local = await startTestStack({ app, baseDir: APP_DIR });
  });

  afterAll(async () => {
    await local?.stop();
    await upstream?.close();
  });

  const admin = () => bearer(local.config.adminKey);
  async function createKey(scopes: string[]): Promise<string> {
    const res = await local.api('/gatehouse/v1/keys', { ...jsonBody({ name: `example ${scopes.join(' ')}`, scopes }), headers: { ...admin(), 'content-type': 'application/json' } });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    return (JSON.parse(text) as { key: string }).key;
  }

  it('is what `--app gatehouse.app.ts` loads: the default export, entries relative to its folder', async () => {
    const loaded = await loadAppFile(join(APP_DIR, 'gatehouse.app.ts'));
    expect(loaded.baseDir).toBe(APP_DIR);
    expect(loaded.app.api.routes.map((r) => `${r.method} ${r.path}`)).toEqual(REPORTS_APP.api.routes.map((r) => `${r.method} ${r.path}`));
    expect(app.targets.weather).toEqual({ kind: 'http', url: upstream.url, timeoutMs: 10_000 });
  });

  it('GET /reports: 401 without a credential, 403 with a key lacking reports:read, 200 from src/reports.ts with one holding it', async () => {
    await expectProblem(await local.api('/reports'), 401, 'AUTHENTICATION_FAILED');
    const weatherOnly = await createKey(['weather:read']);
    await expectProblem(await local.api('/reports', { headers: bearer(weatherOnly) }), 403, 'PERMISSION_DENIED');
    const reader = await createKey(['reports:read']);
    const me = (await (await local.api('/gatehouse/v1/whoami', { headers: bearer(reader) })).json()) as { tenant: string };
    const res = await local.api('/reports', { headers: bearer(reader) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: me.tenant, reports: [expect.objectContaining({ id: 'r-2026-q3' }), expect.objectContaining({ id: 'r-2026-q4' })] });
  });

  it('GET /weather/{city}: refused before the service without weather:read, proxied with the principal headers with it', async () => {
    const before = upstream.received.length;
    await expectProblem(await local.api('/weather/paris'), 401, 'AUTHENTICATION_FAILED');
    const reportsOnly = await createKey(['reports:read']);
    await expectProblem(await local.api('/weather/paris', { headers: bearer(reportsOnly) }), 403, 'PERMISSION_DENIED');
    expect(upstream.received.length).toBe(before);

    const reader = await createKey(['weather:read']);
    const me = (await (await local.api('/gatehouse/v1/whoami', { headers: bearer(reader) })).json()) as { tenant: string; keyId: string };
    const res = await local.api('/weather/paris', { headers: { ...bearer(reader), 'X-Gatehouse-Tenant': 'someone-else' } });
    expect(res.status).toBe(201); // the service's own status
    const got = upstream.received.at(-1)!;
    expect(got.url).toBe('/weather/paris');
    expect(upstream.headerValues(got, 'X-Gatehouse-Tenant')).toEqual([me.tenant]);
    expect(upstream.headerValues(got, 'X-Gatehouse-Key-Id')).toEqual([me.keyId]);
    expect(upstream.headerValues(got, 'X-Gatehouse-Scopes')).toEqual(['weather:read']);
    // The key was for Gatehouse: the service gets the principal, never the credential it could replay.
    expect(upstream.headerValues(got, 'authorization')).toEqual(['']);
  });

  it("serves Gatehouse's own routes under /gatehouse only: the root /v1 paths and the sample items do not exist", async () => {
    expect((await local.api('/gatehouse/health')).status).toBe(200);
    expect((await local.api('/gatehouse/v1/whoami', { headers: admin() })).status).toBe(200);
    await expectProblem(await local.api('/v1/whoami', { headers: admin() }), 404, 'NOT_FOUND');
    await expectProblem(await local.api('/gatehouse/v1/items', { headers: admin() }), 404, 'NOT_FOUND');
    expect(GATEHOUSE_API.routes.some((r) => r.path === '/v1/items')).toBe(true);
  });
});
