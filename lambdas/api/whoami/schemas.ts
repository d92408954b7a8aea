/** The shape of `GET /v1/whoami`. */
import * as z from 'zod';
import { scopeSchema } from '../http/schemas.js';

export const whoamiView = z.object({
  principalId: z.string(),
  authMethod: z.enum(['api_key', 'jwt', 'iam', 'anonymous']),
  tenant: z.string(),
  scopes: z.array(scopeSchema),
  /** An administrator (group `admins`, or the bootstrap admin key): reads every tenant's audit trail. */
  admin: z.boolean().describe("Whether the caller is an administrator (group admins, or the bootstrap admin key): reads every tenant's audit trail"),
  keyId: z.string().optional(),
});
