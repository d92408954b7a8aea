/**
 * `GET /v1/audit`: the query string and the response, as zod schemas (strict: unknown parameters are refused),
 * plus what the OpenAPI generator needs. Window rules that depend on defaults (from < to, at most 31 days) are
 * checked by the store after defaults are applied, with the same 400 naming the field.
 */
import * as z from 'zod';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../core/audit.js';
import { MAX_AUDIT_RANGE_DAYS } from '../../core/audit-store.js';
import { instantSchema } from '../http/schemas.js';

/** ISO 8601 date-time with `Z` or an offset, or a bare date (UTC midnight), bounded and normalised to `toISOString()`. */
const isoTime = instantSchema({ allowDate: true });

const TYPE_SET: ReadonlySet<string> = new Set(AUDIT_EVENT_TYPES);

/** Comma-separated event types, each one of {@link AUDIT_EVENT_TYPES}. */
const typeList = z.string().transform((value, ctx) => {
  const parts = value.split(',').map((t) => t.trim());
  const unknown = parts.filter((t) => !TYPE_SET.has(t));
  if (parts.length === 0 || unknown.length > 0) {
    ctx.addIssue({ code: 'custom', message: `comma-separated event types among ${AUDIT_EVENT_TYPES.join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(parts)] as AuditEventType[];
});

const limit = z
  .string()
  .regex(/^\d{1,3}$/, 'an integer from 1 to 100')
  .transform(Number)
  .pipe(z.number().int().min(1, 'an integer from 1 to 100').max(100, 'an integer from 1 to 100'))
  .default(50);

export const auditQuerySchema = z.strictObject({
  from: isoTime.optional().describe(`Inclusive start (ISO 8601). Default: \`to\` minus 24 hours; at most ${MAX_AUDIT_RANGE_DAYS} days before \`to\`.`),
  to: isoTime.optional().describe('Exclusive end (ISO 8601). Default: now.'),
  type: typeList.optional().describe(`Comma-separated event types: ${AUDIT_EVENT_TYPES.join(', ')}.`),
  limit: limit.describe('Events per page, 1–100 (default 50).'),
  nextToken: z.string().min(1).max(2048).regex(/^[A-Za-z0-9_-]+$/, 'a nextToken from a previous page').optional()
    .describe('From the previous page; the window and type filter carry over (any repeated must be equal).'),
  tenant: z.string().min(1).max(256).optional()
    .describe("Administrators only: one tenant's events (without it, administrators see every tenant). Others may only name their own tenant."),
});

export type AuditQueryParams = z.output<typeof auditQuerySchema>;

export const auditEventSchema = z.object({
  id: z.string().describe('Unique, time-sortable (ULID).'),
  type: z.enum(AUDIT_EVENT_TYPES),
  tenant: z.string(),
  at: z.string().describe('ISO 8601.'),
  actor: z.string().optional().describe('principalId of whoever acted.'),
  keyId: z.string().optional(),
  reason: z.string().optional(),
  sourceIp: z.string().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional()
    .describe('Small facts, e.g. method, path, credentialKind, count (identical refusals collapsed within a minute), from/to.'),
});

export const auditListResponseSchema = z.object({
  events: z.array(auditEventSchema).describe('Newest first.'),
  nextToken: z.string().optional().describe('Present when more events may follow.'),
});

export const auditOpenApi = {
  'GET /v1/audit': {
    query: auditQuerySchema,
    response: auditListResponseSchema,
    responses: {
      200: 'Audit events, newest first',
      400: 'A query parameter is invalid (named in the problem details)',
      401: 'No valid credential',
      403: 'Missing scope audit:read, or a non-administrator named another tenant',
    },
  },
} as const;
