/** whoami, health, openapi, the bootstrap admin key, and the entry point's behaviour under bad configuration. */
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHealthHandler } from '../../lambdas/api/health/operations.js';
import { createKeysHandler } from '../../lambdas/api/keys/operations.js';
import { buildOpenApiDocument } from '../../lambdas/api/openapi/document.js';
import { createOpenApiHandler, encodeOpenApiDocument, OPENAPI_DOCUMENT_ENV } from '../../lambdas/api/openapi/operations.js';
import { group as whoamiGroup } from '../../lambdas/api/whoami/index.js';
import type { Services } from '../../lambdas/api/services.js';
import { createWhoamiHandler } from '../../lambdas/api/whoami/operations.js';
import { handler as whoamiEntry } from '../../lambdas/api/whoami/index.js';
import { createBootstrapHandler } from '../../lambdas/bootstrap/handler.js';
import { ApiKeyVerifier } from '../../lambdas/core/key-verifier.js';
import { DynamoKeyStore } from '../../lambdas/core/key-store.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../../lambdas/routes.js';
import { ROUTES } from '../../lambdas/routes.js';
import { defineApi } from '../../lambdas/core/api-definition.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { captureOutput, gatehouseOpenApiDocument, TEST_PEPPER, testServices } from '../support/services.js';

let dynamo: TestDynamo;
let services: Services;
beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-identity');
  services = testServices(dynamo);
});
afterAll(() => dynamo.stop());

describe('GET /v1/whoami', () => {
  it('answers the principal per CONTRACT §3', async () => {
    const whoami = createWhoamiHandler(services);
    const p = principal('tenant-w', ['items:read'], { authMethod: 'api_key', keyId: 'AbCdEfGhIjKl', principalId: 'key:AbCdEfGhIjKl' });
    const res = await whoami(apiEvent({ method: 'GET', path: '/v1/whoami', principal: p }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ principalId: 'key:AbCdEfGhIjKl', authMethod: 'api_key', tenant: 'tenant-w', scopes: ['items:read'], plan: 'unlimited', admin: false, keyId: 'AbCdEfGhIjKl' });
  });

  it('item 6: says whether the caller is an administrator (group admins, the bootstrap key), as the authorizer decided', async () => {
    const whoami = createWhoamiHandler(services);
    const ask = async (admin: boolean) =>
      bodyOf(await whoami(apiEvent({ method: 'GET', path: '/v1/whoami', principal: principal('tenant-a', ALL_SCOPES, { admin }) }), lambdaContext()));
    expect(await ask(true)).toMatchObject({ tenant: 'tenant-a', admin: true });
    expect(await ask(false)).toMatchObject({ tenant: 'tenant-a', admin: false });
  });

  it('an unusable configuration answers a 500 envelope and logs why', async () => {
    const saved = process.env.GATEHOUSE_TABLE_NAME;
    delete process.env.GATEHOUSE_TABLE_NAME;
    const out = captureOutput();
    try {
      const res = await whoamiEntry(apiEvent({ method: 'GET', path: '/v1/whoami', principal: principal('t') }), lambdaContext());
      expect(res.statusCode).toBe(500);
      expect(bodyOf(res)).toMatchObject({ code: 'INTERNAL_ERROR', requestId: expect.any(String) });
      expect(out.text()).toContain('GATEHOUSE_TABLE_NAME');
    } finally {
      out.restore();
      if (saved !== undefined) process.env.GATEHOUSE_TABLE_NAME = saved;
    }
  });
});

describe('GET /health', () => {
  it('answers 200 with no credential', async () => {
    const res = await createHealthHandler(services)(apiEvent({ method: 'GET', path: '/health' }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ status: 'ok' });
  });
});

describe('GET /openapi.json', () => {
  it('describes every route of the table with its auth, scope, parameters and error envelope', async () => {
    // As the local stack hands it over (CDK bundles the same value): the group's bundle value, by its variable name.
    const values = { [OPENAPI_DOCUMENT_ENV]: encodeOpenApiDocument(await gatehouseOpenApiDocument()) };
    const res = await createOpenApiHandler(services, values)(apiEvent({ method: 'GET', path: '/openapi.json' }), lambdaContext());
    const doc = bodyOf<{ openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> }>(res);
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ROUTES) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op!['x-gatehouse-scope']).toBe(route.scope);
      const security = op!.security as Record<string, string[]>[];
      if (route.auth === 'public') expect(security).toEqual([]);
      if (route.auth === 'iam') expect(security).toEqual([{ sigv4: [] }]);
      if (route.auth === 'token') expect(security.map((s) => Object.keys(s)[0])).toEqual(['apiKey', 'bearer']);
      const params = ((op!.parameters ?? []) as { name: string; in: string }[]).filter((p) => p.in === 'path').map((p) => p.name);
      expect(params).toEqual([...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
    }
    const create = doc.paths['/v1/keys']!.post!;
    const bodySchema = (create.requestBody as { content: Record<string, { schema: { required: string[]; additionalProperties: boolean } }> }).content['application/json']!.schema;
    expect(bodySchema.required).toEqual(['name', 'scopes']);
    expect(bodySchema.additionalProperties).toBe(false);
    expect(Object.keys(create.responses as object)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413', '415', '429']));
  });

  it('refuses a route of a handler group that the group does not describe', () => {
    const api = defineApi({ scopes: GATEHOUSE_API.definition.scopes, routes: [...ROUTES, { method: 'GET', path: '/v1/nothing', handler: 'whoami', auth: 'token', summary: 'x' }] });
    expect(() => buildOpenApiDocument(api, { docs: { whoami: whoamiGroup.docs } })).toThrow(/no OpenAPI description for GET \/v1\/nothing/);
  });

  it('without a bundled document the openapi function refuses to start (a misconfiguration, never an empty document)', () => {
    expect(() => createOpenApiHandler(services)).toThrow(/GATEHOUSE_OPENAPI_DOCUMENT/);
  });
});

describe('bootstrap admin key (custom resource)', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());
  const env = { GATEHOUSE_TABLE_NAME: 'gatehouse-identity', GATEHOUSE_KEY_ENV: 'test', GATEHOUSE_LOCAL_PEPPER: TEST_PEPPER, GATEHOUSE_ADMIN_KEY_SECRET_ID: 'admin-key' };
  const event = (RequestType: 'Create' | 'Update' | 'Delete') => ({ RequestType }) as unknown as CloudFormationCustomResourceEvent;

  it('creates the admin key once, writes its plaintext only to the secret, and keeps it on update', async () => {
    const store = new DynamoKeyStore(dynamo.doc, dynamo.tableName);
    const bootstrap = createBootstrapHandler({ secrets: new SecretsManagerClient({ region: 'us-east-1' }), store, env });
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('no value'), { name: 'ResourceNotFoundException' }));
    sm.on(PutSecretValueCommand).resolves({});
    const out = captureOutput();
    let created;
    try {
      created = await bootstrap(event('Create'));
    } finally {
      out.restore();
    }
    const puts = sm.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    const key = puts[0]!.args[0].input.SecretString!;
    expect(JSON.stringify(created)).not.toContain(key);
    expect(out.text()).not.toContain(key.slice(22));
    const verifier = new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store, peppers: services.peppers, environment: 'test' });
    const verified = await verifier.verify(key);
    expect(verified.ok && verified.principal).toMatchObject({ tenant: 'admin', admin: true, scopes: ALL_SCOPES });

    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: key });
    const again = await bootstrap(event('Update'));
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(again.Data.AdminKeyId).toBe(created.Data.AdminKeyId);
    expect(await bootstrap(event('Delete'))).toEqual({ PhysicalResourceId: created.PhysicalResourceId, Data: {} });

    // Rotated through the API (no grace): the secret's key is refused now, and a redeploy must keep the successor
    // as the one admin key instead of minting a second.
    const keys = createKeysHandler(services);
    const administrator = { principalId: `key:${created.Data.AdminKeyId}`, authMethod: 'api_key' as const, tenant: 'admin', scopes: ALL_SCOPES, admin: true };
    const rotated = await keys(apiEvent({ method: 'POST', path: `/v1/keys/${created.Data.AdminKeyId}/rotate`, principal: administrator, body: {} }), lambdaContext());
    expect(rotated.statusCode).toBe(201);
    const successorId = bodyOf<{ id: string }>(rotated).id;
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: key });
    const out2 = captureOutput();
    let redeployed;
    try {
      redeployed = await bootstrap(event('Update'));
    } finally {
      out2.restore();
    }
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(redeployed.Data.AdminKeyId).toBe(successorId);
    expect(out2.text()).toContain('rotated through the API');
  });
});
