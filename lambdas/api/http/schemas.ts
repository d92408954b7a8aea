/** Schemas shared by several route groups, and the shape each group's OpenAPI description takes. */
import * as z from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { isScopeName } from '../../core/scopes.js';
import { EARLIEST_INSTANT, EARLIEST_INSTANT_MS, LATEST_INSTANT, LATEST_INSTANT_MS } from '../../core/instant.js';

/**
 * A scope name as a request or response carries it. Which names exist is the deployment's (services.api.scopes):
 * operations that take scopes check them against it and name the declared ones in their 400.
 */
export const scopeSchema = z.string().refine(isScopeName, 'a scope name such as keys:read').describe("One of the API's declared scopes (x-gatehouse-scopes)");

/** Query-string page size: strings on the wire, numbers in code. */
export const limitSchema = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,4}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((v) => v ?? fallback);

export const nextTokenSchema = z.string().min(1).max(2048).optional();

/** ISO 8601 date-time with `Z` or an offset: the documented form of instants in responses. */
export const isoDateTime = z.iso.datetime({ offset: true });

/**
 * The range of instants a client may send. Both ends have the canonical 24-character UTC form
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`, four-digit year): the store compares and sorts instants as strings, and an instant
 * past year 9999 becomes `+010000-…`, which sorts before every four-digit year (it made audit queries fail with a
 * 503 and rotations refuse a key as "expired").
 */
export { EARLIEST_INSTANT, LATEST_INSTANT };

const INSTANT_FORM = 'an ISO 8601 time such as 2030-05-01T12:00:00Z';

/**
 * An instant sent by a client: an ISO 8601 date-time with `Z` or an offset (and, with `allowDate`, a bare date,
 * meaning UTC midnight), within {@link EARLIEST_INSTANT}..{@link LATEST_INSTANT} once converted to UTC, normalised
 * to `toISOString()`. Every request schema takes instants through this one definition.
 */
export function instantSchema(options: { allowDate?: boolean } = {}) {
  const form = options.allowDate
    ? z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: INSTANT_FORM })
    : z.iso.datetime({ offset: true, error: INSTANT_FORM });
  return form.transform((value, ctx) => {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: INSTANT_FORM });
      return z.NEVER;
    }
    if (ms < EARLIEST_INSTANT_MS || ms > LATEST_INSTANT_MS) {
      ctx.addIssue({ code: 'custom', message: `must lie between ${EARLIEST_INSTANT} and ${LATEST_INSTANT} (in UTC)` });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });
}

/** How a route group describes its operations to the OpenAPI generator (keyed `METHOD /path`). */
export interface OperationDoc {
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly response?: z.ZodType;
  /** Status → description, besides the error statuses every route may answer. */
  readonly responses: Readonly<Record<number, string>>;
  /** Request headers the operation reads (beyond credentials). */
  readonly headers?: readonly { readonly name: string; readonly description: string }[];
  /** Error codes this operation answers beyond those its shape implies (e.g. PRECONDITION_FAILED). */
  readonly errors?: readonly ErrorCode[];
}
export type GroupDoc = Readonly<Record<string, OperationDoc>>;
