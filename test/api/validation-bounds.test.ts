/**
 * A 400 is bounded whatever the body: a request of many unknown or invalid fields must not become an error
 * response larger than the request itself, nor pass Lambda's 6 MB response limit (a 5xx in AWS).
 */
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createApiHandler } from '../../lambdas/api/http/api-handler.js';
import { MAX_FIELD_NAME_LENGTH, MAX_LISTED_PROBLEMS } from '../../lambdas/api/http/body.js';
import { jsonPayloadBytes } from '../../lambdas/api/http/byte-budget.js';
import { json } from '../../lambdas/api/http/types.js';
import { createLogger } from '../../lambdas/core/logger.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';

const TEN_MB = 10 * 1024 * 1024; // above the settings' limit on purpose: the bound must not rely on it
const handler = createApiHandler(
  'items',
  {
    'GET /v1/items': { handle: () => Promise.resolve(json(200, {})) },
    'POST /v1/items': { body: z.object({ name: z.string() }).strict(), handle: () => Promise.resolve(json(201, {})) },
    'GET /v1/items/{itemId}': { handle: () => Promise.resolve(json(200, {})) },
    'PUT /v1/items/{itemId}': { handle: () => Promise.resolve(json(200, {})) },
    'DELETE /v1/items/{itemId}': { handle: () => Promise.resolve(json(204, {})) },
  },
  { logger: createLogger('gatehouse-test'), corsOrigins: [], maxBodyBytes: TEN_MB, api: GATEHOUSE_API },
);

interface Problem {
  detail: string;
  errors: { field: string; message: string }[];
}

describe('finding 11.12 (class): validation errors are bounded by size, not by the body', () => {
  it('a body of 200 000 unknown fields with long names gets a 400 listing a bounded number, each name clipped', async () => {
    const body: Record<string, number> = { name: 1 };
    for (let i = 0; i < 150_000; i++) body[`${'x'.repeat(30)}${i}`] = i;
    const rawBody = JSON.stringify(body);
    expect(rawBody.length).toBeGreaterThan(6_000_000);
    const res = await handler(apiEvent({ method: 'POST', path: '/v1/items', principal: principal('t'), rawBody, headers: { 'Content-Type': 'application/json' } }), lambdaContext());
    expect(res.statusCode).toBe(400);
    const problem = bodyOf<Problem>(res);
    expect(problem.errors.length).toBeLessThanOrEqual(MAX_LISTED_PROBLEMS + 1);
    expect(problem.errors.find((e) => e.message.startsWith('unknown field'))?.field).toMatch(/and 149990 more$/);
    expect(jsonPayloadBytes(res)).toBeLessThan(8 * 1024);
  });

  it('a field name longer than the limit is clipped in the problem list and the detail', async () => {
    const long = 'k'.repeat(10_000);
    const res = await handler(
      apiEvent({ method: 'POST', path: '/v1/items', principal: principal('t'), rawBody: JSON.stringify({ name: 'a', [long]: 1 }), headers: { 'Content-Type': 'application/json' } }),
      lambdaContext(),
    );
    const problem = bodyOf<Problem>(res);
    expect(res.statusCode).toBe(400);
    expect(problem.errors[0]!.field.length).toBeLessThanOrEqual(MAX_FIELD_NAME_LENGTH + 1);
    expect(problem.detail.length).toBeLessThan(200);
  });
});
