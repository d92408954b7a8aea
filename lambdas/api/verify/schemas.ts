/** The shapes of `POST /v1/verify`. */
import * as z from 'zod';
import { isoDateTime, scopeSchema } from '../http/schemas.js';

/** Up to 8 KB, the same bound the authorizer applies; anything else about its shape is the verifier's business. */
export const verifyBody = z.object({ key: z.string().max(8192) }).strict();

export const verifyView = z.object({
  valid: z.boolean(),
  keyId: z.string().optional(),
  tenant: z.string().optional(),
  scopes: z.array(scopeSchema).optional(),
  expiresAt: isoDateTime.nullable().optional(),
});
