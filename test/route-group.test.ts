/**
 * Issue 12 (A), the proof: a route group added from this file ONLY — its scopes, its routes, its handler group — is
 * picked up by everything that derives from the declarations: the authorizer's policy, the local gateway
 * (401 / 403 / 200), the local OIDC provider (machine and people tokens), `/openapi.json`, the synthesized template
 * (method, function, role with exactly the declared access) and the client. Nothing outside this file names it.
 */
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apiKeyAuth, bearerAuth } from '../client/auth.js';
import { GatehouseClient } from '../client/client.js';
import { findRoute } from '../client/routes.js';
import { GatehouseApiError } from '../client/errors.js';
import { defineHandlerGroup } from '../lambdas/api/group.js';
import { createApiHandler } from '../lambdas/api/http/api-handler.js';
import { json } from '../lambdas/api/http/types.js';
import { httpOptions } from '../lambdas/api/services.js';
import { extendGatehouseApp } from '../lambdas/app.js';
import { buildPolicy } from '../lambdas/core/policy.js';
import { buildGatehouse } from '../infra/gatehouse.js';
import { loadAppGroups } from '../infra/groups.js';
import { evaluatePolicy } from '../local/policy-evaluator.js';
import { createApp } from './infra/synth.js';
import { actionsOf, idOf, json as jsonText, methodsByRoute, statementsOfRole } from './infra/template.js';
import { machineToken, personTokens, startTestStack, type TestStack } from './local/support.js';

const REPORTS_APP = extendGatehouseApp({
  scopes: {
    'reports:read': { description: 'Read reports', groups: ['admins', 'users'] },
    'reports:write': { description: 'Publish reports', groups: ['admins'] },
  },
  routes: [
    { method: 'GET', path: '/v1/reports', handler: 'reports', auth: 'token', scope: 'reports:read', summary: 'List reports' },
    { method: 'POST', path: '/v1/reports', handler: 'reports', auth: 'token', scope: 'reports:write', summary: 'Publish a report' },
  ],
});

const reportBody = z.object({ title: z.string().min(1).max(100) }).strict();
const reportView = z.object({ title: z.string(), tenant: z.string() });

const REPORTS_GROUP = defineHandlerGroup({
  name: 'reports',
  create: (services) =>
    createApiHandler(
      'reports',
      {
        'GET /v1/reports': { handle: ({ principal }) => Promise.resolve(json(200, { reports: [], tenant: principal.tenant })) },
        'POST /v1/reports': {
          body: reportBody,
          handle: ({ principal, body }) => Promise.resolve(json(201, { title: (body as z.output<typeof reportBody>).title, tenant: principal.tenant })),
        },
      },
      httpOptions(services),
    ),
  docs: {
    'GET /v1/reports': { response: z.object({ reports: z.array(reportView), tenant: z.string() }), responses: { 200: 'The reports' } },
    'POST /v1/reports': { body: reportBody, response: reportView, responses: { 201: 'Published' } },
  },
  access: { table: ['Query'] },
});

describe('a route group added from one file', () => {
  it('the policy allows it exactly to principals holding its scopes', () => {
    const arn = (method: string, path: string) => `arn:aws:execute-api:us-east-1:123456789012:abc/prod/${method}${path}`;
    const policy = (scopes: string[]) => buildPolicy({ principalId: 'p', methodArn: arn('GET', '/v1/whoami'), scopes, routes: REPORTS_APP.api.routes, context: {} }).policyDocument;
    expect(evaluatePolicy(policy(['reports:read']), arn('GET', '/v1/reports'))).toBe('allow');
    expect(evaluatePolicy(policy(['reports:read']), arn('POST', '/v1/reports'))).not.toBe('allow');
    expect(evaluatePolicy(policy(['items:read']), arn('GET', '/v1/reports'))).not.toBe('allow');
    expect(evaluatePolicy(policy(['reports:read', 'reports:write']), arn('POST', '/v1/reports'))).toBe('allow');
    // The group's scopes are declared, with who holds them: users read, admins also write.
    expect(REPORTS_APP.api.scopes.forGroups(['users'])).toContain('reports:read');
    expect(REPORTS_APP.api.scopes.forGroups(['users'])).not.toContain('reports:write');
    expect(REPORTS_APP.api.scopes.forGroups(['admins'])).toEqual(expect.arrayContaining(['reports:read', 'reports:write']));
  });

  describe('on the local stack', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({ app: REPORTS_APP, groups: [REPORTS_GROUP] });
    });
    afterAll(() => stack?.stop());

    const client = (token: string) =>
      new GatehouseClient({ baseUrl: stack.apiUrl, auth: token.startsWith('gth_') ? apiKeyAuth(token) : bearerAuth(token), routes: REPORTS_APP.api.routes, retry: { maxRetries: 0 } });

    it('answers 401 without a credential, 403 without its scope, 200 with it', async () => {
      expect((await stack.api('/v1/reports')).status).toBe(401);
      const admin = client(stack.config.adminKey);
      // The bootstrap admin key holds every scope of the running deployment, the new ones included.
      const narrow = (await admin.createKey({ name: 'items only', scopes: ['items:read'] })).key;
      const reader = (await admin.call('POST /v1/keys', { body: { name: 'reports reader', scopes: ['reports:read'] } })).key;
      const denied = await client(narrow).call('GET /v1/reports').catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(GatehouseApiError);
      expect(denied).toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
      expect(await client(reader).call('GET /v1/reports')).toEqual({ reports: [], tenant: 'admin' });
      expect(await client(reader).call('POST /v1/reports', { body: { title: 'q4' } }).catch((e: unknown) => e)).toMatchObject({ status: 403 });
    });

    it('the local OIDC provider derives it: the machine client and alice hold its scopes as declared; bob only reads', async () => {
      expect(stack.config.oidc.machineClient.scopes).toEqual(expect.arrayContaining(['gatehouse/reports:read', 'gatehouse/reports:write']));
      const machine = await machineToken(stack.config, 'gatehouse/reports:read gatehouse/reports:write');
      expect(await client(machine).call('POST /v1/reports', { body: { title: 'nightly' } })).toMatchObject({ title: 'nightly' });
      const alice = (await personTokens(stack.config, 'alice')).accessToken;
      const bob = (await personTokens(stack.config, 'bob')).accessToken;
      expect(await client(alice).call('POST /v1/reports', { body: { title: 'by alice' } })).toMatchObject({ title: 'by alice' });
      expect(await client(bob).call('GET /v1/reports')).toMatchObject({ reports: [] });
      expect(await client(bob).call('POST /v1/reports', { body: { title: 'by bob' } }).catch((e: unknown) => e)).toMatchObject({ status: 403 });
    });

    it('/openapi.json documents it with its scope and schemas', async () => {
      const doc = (await (await stack.api('/openapi.json')).json()) as {
        paths: Record<string, Record<string, { 'x-gatehouse-scope'?: string; requestBody?: unknown }>>;
        'x-gatehouse-scopes': Record<string, string>;
      };
      expect(doc.paths['/v1/reports']?.get?.['x-gatehouse-scope']).toBe('reports:read');
      expect(doc.paths['/v1/reports']?.post?.['x-gatehouse-scope']).toBe('reports:write');
      expect(doc.paths['/v1/reports']?.post?.requestBody).toBeDefined();
      expect(doc['x-gatehouse-scopes']).toMatchObject({ 'reports:read': 'Read reports', 'reports:write': 'Publish reports' });
    });

    it('the client finds its routes and scopes from the same table', () => {
      expect(findRoute('POST', '/v1/reports', REPORTS_APP.api.routes)).toMatchObject({ scope: 'reports:write', auth: 'token' });
    });
  });

  it('the synthesized template has its method, its function and a role with exactly the declared access', async () => {
    const groups = await loadAppGroups(REPORTS_APP, { groups: [REPORTS_GROUP] });
    const cdkApp = createApp();
    const stacks = buildGatehouse(cdkApp, { app: REPORTS_APP, groups, handlerEntries: { reports: fileURLToPath(import.meta.url) } });
    const template = Template.fromStack(stacks.api);
    const fn = stacks.api.gatehouse.handlers.reports!;
    const methods = methodsByRoute(template);
    for (const key of ['GET /v1/reports', 'POST /v1/reports']) {
      const method = methods.get(key);
      expect(method, key).toBeDefined();
      expect(method!.AuthorizationType, key).toBe('CUSTOM');
      expect(jsonText(method!.Integration), key).toContain(idOf(fn.fn));
    }
    const actions = actionsOf(statementsOfRole(template, idOf(fn.role)));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:Query']);
    expect(actions.some((a) => a.startsWith('secretsmanager:'))).toBe(false);
  });
});
