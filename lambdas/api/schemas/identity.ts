/** Shapes of whoami, verify and health. */
import * as z from 'zod';
import { isoDateTime, scopeSchema, type GroupDoc } from './common.js';

export const whoamiView = z.object({
  principalId: z.string(),
  authMethod: z.enum(['api_key', 'jwt', 'iam', 'anonymous']),
  tenant: z.string(),
  scopes: z.array(scopeSchema),
  keyId: z.string().optional(),
});

/** Up to 8 KB, the same bound the authorizer applies; anything else about its shape is the verifier's business. */
export const verifyBody = z.object({ key: z.string().max(8192) }).strict();

export const verifyView = z.object({
  valid: z.boolean(),
  keyId: z.string().optional(),
  tenant: z.string().optional(),
  scopes: z.array(scopeSchema).optional(),
  expiresAt: isoDateTime.nullable().optional(),
});

export const healthView = z.object({ status: z.literal('ok') });

export const identityOpenApi: GroupDoc = {
  'GET /health': { response: healthView, responses: { 200: 'Ready' } },
  'GET /openapi.json': { responses: { 200: 'This document' } },
  'GET /v1/whoami': { response: whoamiView, responses: { 200: 'The calling principal' } },
  'POST /v1/verify': {
    body: verifyBody,
    response: verifyView,
    responses: { 200: 'Whether the key is valid now; no reason is given when it is not' },
  },
};
