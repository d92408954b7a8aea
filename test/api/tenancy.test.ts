/**
 * The cross-tenant matrix over the whole route table: every route that names a resource, called by another tenant
 * with the owner's ids, answers 404 and changes nothing; every listing shows only the caller's own data.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditHandler } from '../../lambdas/api/audit/operations.js';
import { createItemsHandler } from '../../lambdas/api/items/operations.js';
import { createKeysHandler } from '../../lambdas/api/keys/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { createUsageHandler } from '../../lambdas/api/usage/operations.js';
import { ROUTES } from '../../lambdas/routes.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';
import { testServices } from '../support/services.js';

let dynamo: TestDynamo;
let services: Services;
let handlers: Partial<Record<string, (e: ReturnType<typeof apiEvent>) => Promise<APIGatewayProxyResult>>>;
const owner = principal('tenant-owner');
const intruder = principal('tenant-intruder');
const ids: Record<string, string> = {};

const call = (group: string, args: Parameters<typeof apiEvent>[0]) => handlers[group]!(apiEvent(args));

/** Everything the owner has, as stored: compared before and after the intruder's attempts. */
async function ownerSnapshot() {
  return {
    key: await services.keys.get(ids.keyId!),
    item: await services.items.get(owner.tenant, ids.itemId!),
    usage: await services.usage.listForTenant(owner.tenant),
  };
}

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-tenancy');
  services = testServices(dynamo);
  const wrap = (h: ReturnType<typeof createKeysHandler>) => (e: ReturnType<typeof apiEvent>) => h(e, lambdaContext());
  handlers = {
    keys: wrap(createKeysHandler(services)),
    items: wrap(createItemsHandler(services)),
    audit: wrap(createAuditHandler(services)),
    usage: wrap(createUsageHandler(services)),
  };
  ids.keyId = bodyOf<{ id: string }>(await call('keys', { method: 'POST', path: '/v1/keys', principal: owner, body: { name: 'owned', scopes: ['items:read'] } })).id;
  ids.itemId = bodyOf<{ id: string }>(await call('items', { method: 'POST', path: '/v1/items', principal: owner, body: { name: 'owned', data: { a: 1 } } })).id;
  await services.usage.add(ids.keyId, owner.tenant, 3, new Date().toISOString());
});
afterAll(() => dynamo.stop());

describe('cross-tenant matrix', () => {
  const resourceRoutes = ROUTES.filter((r) => r.auth === 'token' && r.path.includes('{'));

  it('covers every route that names a resource', () => {
    expect(resourceRoutes.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/keys/{keyId}',
      'DELETE /v1/keys/{keyId}',
      'POST /v1/keys/{keyId}/rotate',
      'PUT /v1/keys/{keyId}/plan',
      'GET /v1/items/{itemId}',
      'PUT /v1/items/{itemId}',
      'DELETE /v1/items/{itemId}',
    ]);
  });

  it.each(resourceRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s with the owner\'s id → 404, nothing changed', async (_name, route) => {
    const before = await ownerSnapshot();
    const path = route.path.replace('{keyId}', ids.keyId!).replace('{itemId}', ids.itemId!);
    const body = route.path.endsWith('/plan') ? { plan: 'unlimited' } : route.method === 'PUT' ? { name: 'stolen', data: {} } : route.method === 'POST' ? {} : undefined;
    const res = await call(route.handler, { method: route.method, path, principal: intruder, ...(body ? { body } : {}), headers: { 'If-Match': '*' } });
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await ownerSnapshot()).toEqual(before);
  });

  it('listings show only the caller\'s data', async () => {
    const keys = await call('keys', { method: 'GET', path: '/v1/keys', principal: intruder });
    expect(res(keys)).not.toContain(ids.keyId);
    const items = await call('items', { method: 'GET', path: '/v1/items', principal: intruder });
    expect(res(items)).not.toContain(ids.itemId);
    const usage = await call('usage', { method: 'GET', path: '/v1/usage', principal: intruder, query: { keyId: ids.keyId! } });
    expect(bodyOf(usage)).toEqual({ usage: [] });
    const audit = await call('audit', { method: 'GET', path: '/v1/audit', principal: intruder });
    expect(res(audit)).not.toContain(ids.keyId);
    // …while the owner sees its own.
    expect(res(await call('audit', { method: 'GET', path: '/v1/audit', principal: owner }))).toContain(ids.keyId);
    expect(res(await call('usage', { method: 'GET', path: '/v1/usage', principal: owner }))).toContain(ids.keyId);
  });
});

function res(r: APIGatewayProxyResult): string {
  expect(r.statusCode).toBe(200);
  return r.body;
}
