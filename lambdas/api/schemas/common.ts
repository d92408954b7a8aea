/** Schemas shared by several route groups, and the shape each group's OpenAPI description takes. */
import * as z from 'zod';
import { ALL_SCOPES } from '../../core/scopes.js';

export const scopeSchema = z.enum(ALL_SCOPES);

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

export const isoDateTime = z.iso.datetime({ offset: true });

/** How a route group describes its operations to the OpenAPI generator (keyed `METHOD /path`). */
export interface OperationDoc {
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly response?: z.ZodType;
  /** Status → description, besides the error statuses every route may answer. */
  readonly responses: Readonly<Record<number, string>>;
}
export type GroupDoc = Readonly<Record<string, OperationDoc>>;
