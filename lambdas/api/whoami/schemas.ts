/** The shape of `GET /v1/whoami`. */
import * as z from 'zod';
import { scopeSchema } from '../http/schemas.js';

export const whoamiView = z.object({
  principalId: z.string(),
  authMethod: z.enum(['api_key', 'jwt', 'iam', 'anonymous']),
  tenant: z.string(),
  scopes: z.array(scopeSchema),
  plan: z.string().describe("The caller's plan: its limits are in RateLimit-Policy (docs/plans.md)"),
  keyId: z.string().optional(),
});
