/** `GET /v1/usage`: the query string and the response as zod schemas, plus what the OpenAPI generator needs. */
import * as z from 'zod';
import { isKeyId } from '../../core/api-key.js';
import { decodeUsagePageToken, USAGE_PAGE_LIMIT } from '../../core/usage-store.js';
import { limitSchema } from '../http/schemas.js';

export const usageQuerySchema = z.strictObject({
  keyId: z
    .string()
    .refine(isKeyId, 'a key id (12 base62 characters)')
    .optional()
    .describe("Only this key's usage (an unknown key, or another tenant's, has none)."),
  limit: limitSchema(USAGE_PAGE_LIMIT.max, USAGE_PAGE_LIMIT.default).describe(`Rows per page, 1–${USAGE_PAGE_LIMIT.max} (default ${USAGE_PAGE_LIMIT.default}).`),
  nextToken: z
    .string()
    .refine((t) => decodeUsagePageToken(t) !== undefined, 'not a token this API issued')
    .optional()
    .describe('From the previous page; valid only for the tenant it was issued to.'),
});

export type UsageQueryParams = z.output<typeof usageQuerySchema>;

export const keyUsageSchema = z.object({
  keyId: z.string(),
  requests: z.number().int().describe('Requests allowed with this key (written by each authorizer container at most once a minute).'),
  lastUsedAt: z.string().describe('ISO 8601.'),
  plan: z.string().describe("The key's plan (docs/plans.md)"),
  quota: z
    .object({
      limit: z.number().int(),
      period: z.enum(['day', 'month']),
      used: z
        .number()
        .int()
        .describe('Units of this period handed out to the gateway: the requests allowed, plus at most one block per container not yet spent (docs/plans.md)'),
      remaining: z.number().int(),
      resetsAt: z.string().describe('ISO 8601: when the period ends (UTC)'),
    })
    .optional()
    .describe('Present when the plan has a quota: the current period'),
});

export const usageResponseSchema = z.object({
  usage: z.array(keyUsageSchema).describe("The caller's tenant's keys that have been used, by key id."),
  nextToken: z.string().optional().describe('Absent on the last page'),
});

export const usageOpenApi = {
  'GET /v1/usage': {
    query: usageQuerySchema,
    response: usageResponseSchema,
    responses: {
      200: "A page of usage of the tenant's keys, by key id",
      400: 'A query parameter is invalid (named in the problem details)',
      401: 'No valid credential',
      403: 'Missing scope usage:read',
    },
  },
} as const;
