/** Request and response shapes of the key lifecycle routes; the validator and the OpenAPI document both use them. */
import * as z from 'zod';
import { instantSchema, isoDateTime, LATEST_INSTANT, limitSchema, nextTokenSchema, scopeSchema, type GroupDoc } from '../http/schemas.js';

export const MAX_GRACE_SECONDS = 86_400;

/** Scopes one key may list: far above any real API's, and a bound on the request. */
export const MAX_KEY_SCOPES = 100;

export const createKeyBody = z
  .object({
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
  'POST /v1/keys/{keyId}/rotate': {
    body: rotateKeyBody,
    response: createdKeyView,
    responses: { 201: 'The successor key, with its plaintext (shown once); the old key works until the grace period ends' },
  },
};
