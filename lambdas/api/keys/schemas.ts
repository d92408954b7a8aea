/** Request and response shapes of the key lifecycle routes; the validator and the OpenAPI document both use them. */
import * as z from 'zod';
import { PLAN_NAME_PATTERN } from '../../core/plans.js';
import { instantSchema, isoDateTime, LATEST_INSTANT, limitSchema, nextTokenSchema, scopeSchema, type GroupDoc } from '../http/schemas.js';

export const MAX_GRACE_SECONDS = 86_400;

/** Scopes one key may list: far above any real API's, and a bound on the request. */
export const MAX_KEY_SCOPES = 100;

/** A plan name (plans.ts); which plans exist is the deployment's (checked by the operation). */
const planSchema = z.string().regex(PLAN_NAME_PATTERN, 'a plan name such as free or pro').describe('A plan this deployment defines (docs/plans.md)');

export const createKeyBody = z
  .object({
    plan: planSchema
      .optional()
      .describe("The key's plan: one within the creator's own plan. Default: the deployment's default plan, or the creator's own when that is narrower."),
    name: z.string().trim().min(1).max(100),
    // The bound keeps the body small; which names exist is the deployment's (checked by the operation).
    scopes: z.array(scopeSchema).min(1).max(MAX_KEY_SCOPES).refine((s) => new Set(s).size === s.length, 'scopes must not repeat'),
    expiresAt: instantSchema()
      .optional()
      .describe(
        `When the key stops working: ISO 8601, in the future, at most ${LATEST_INSTANT}; stored in UTC. A key calling this route cannot make a key that outlives itself: without expiresAt the new key expires when the calling key does.`,
      ),
  })
  .strict();

export const setPlanBody = z.object({ plan: planSchema }).strict();

export const rotateKeyBody = z
  .object({ gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(0) })
  .strict();

export const listKeysQuery = z.object({ limit: limitSchema(100, 25), nextToken: nextTokenSchema }).strict();

/** A key as shown after creation: never its plaintext, never its hash. */
export const keyView = z.object({
  id: z.string(),
  prefix: z.string().describe('The key\'s public start (gth_<env>_<id>), to recognise it'),
  name: z.string(),
  scopes: z.array(scopeSchema),
  admin: z.literal(true).optional().describe('The bootstrap admin key: it holds every scope of the deployment'),
  plan: z.string().describe("The key's plan (docs/plans.md)"),
  status: z.enum(['active', 'expired', 'revoked']),
  createdAt: isoDateTime,
  createdBy: z.string(),
  expiresAt: isoDateTime.optional(),
  revokedAt: isoDateTime.optional(),
  graceUntil: isoDateTime.optional(),
  rotatedTo: z.string().optional(),
  rotatedFrom: z.string().optional(),
});

export const createdKeyView = z.object({
  id: z.string(),
  key: z.string().describe('The plaintext key. Shown here once; store it now.'),
  name: z.string(),
  scopes: z.array(scopeSchema),
  plan: z.string(),
  createdAt: isoDateTime,
  expiresAt: isoDateTime.nullable(),
  rotatedFrom: z.string().optional(),
});

export const keysOpenApi: GroupDoc = {
  'POST /v1/keys': { body: createKeyBody, response: createdKeyView, responses: { 201: 'The key, with its plaintext (shown once)' } },
  'GET /v1/keys': {
    query: listKeysQuery,
    response: z.object({ keys: z.array(keyView), nextToken: z.string().optional() }),
    responses: { 200: "The tenant's keys, newest first" },
  },
  'GET /v1/keys/{keyId}': { response: keyView, responses: { 200: 'The key (never its plaintext)' } },
  'DELETE /v1/keys/{keyId}': { responses: { 204: 'Revoked (also when it already was: revoking is idempotent)' } },
  'PUT /v1/keys/{keyId}/plan': {
    body: setPlanBody,
    response: keyView,
    responses: { 200: 'The key on its new plan; the authorizer applies it within its decision cache TTL (at most 5 s)' },
  },
  'POST /v1/keys/{keyId}/rotate': {
    body: rotateKeyBody,
    response: createdKeyView,
    responses: { 201: 'The successor key, with its plaintext (shown once); the old key works until the grace period ends' },
  },
};
