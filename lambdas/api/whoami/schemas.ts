/** The shape of `GET /v1/whoami`. */
import * as z from 'zod';
import { AUTH_METHODS } from '../../core/principal.js';
import { scopeSchema } from '../http/schemas.js';

export const whoamiView = z.object({
  principalId: z.string(),
  authMethod: z.enum(AUTH_METHODS),
  tenant: z.string(),
  scopes: z.array(scopeSchema),
  plan: z.string().describe("The caller's plan: its limits are in RateLimit-Policy (docs/plans.md)"),
  /** An administrator (group `admins`, or the bootstrap admin key): reads every tenant's audit trail. */
  admin: z.boolean().describe("Whether the caller is an administrator (group admins, or the bootstrap admin key): reads every tenant's audit trail"),
  keyId: z.string().optional(),
  /** The client-certificate principal the request is bound to (mutual TLS), when there is one. */
  certificate: z.string().optional(),
});
