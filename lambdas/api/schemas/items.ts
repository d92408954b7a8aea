/**
 * Request and response shapes of the items routes (the sample resource); the validator and the OpenAPI document
 * both use them. Every object is strict: an unknown field is refused and named, never ignored.
 */
import * as z from 'zod';
import { decodeItemPageToken, ITEM_PAGE_LIMIT, MAX_DATA_DEPTH } from '../../core/item-store.js';
import { isoDateTime, limitSchema, type GroupDoc } from './common.js';

// A lone UTF-16 surrogate cannot be stored as UTF-8: it would silently become U+FFFD.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Path parameter: item ids are server-generated UUIDs (any other string is a 400 naming itemId). */
export const itemIdSchema = z.uuid();

export const itemNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');

/** DynamoDB numbers: magnitude from 1e-130; the SDK refuses integers beyond 2^53 - 1 (they would lose precision). */
const MIN_MAGNITUDE = 1e-130;

/**
 * Checks a JSON value against what DynamoDB stores faithfully, adding an issue at the offending path: numbers in
 * range, no empty or non-Unicode member names or strings, nesting at most {@link MAX_DATA_DEPTH} levels.
 * The size limit is checked by the store (413), where the whole item is known.
 */
function checkStorable(value: unknown, path: (string | number)[], depth: number, ctx: z.RefinementCtx): void {
  const issue = (message: string) => ctx.addIssue({ code: 'custom', message, path: [...path] });
  if (typeof value === 'number') {
    const abs = Math.abs(value);
    if (!Number.isFinite(value) || abs > Number.MAX_SAFE_INTEGER) issue(`numbers must be within ±${Number.MAX_SAFE_INTEGER}`);
    else if (abs !== 0 && abs < MIN_MAGNITUDE) issue('numbers must be 0 or at least 1e-130 in magnitude');
    return;
  }
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) issue('must be valid Unicode');
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DATA_DEPTH) {
    issue(`nested deeper than ${MAX_DATA_DEPTH} levels`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkStorable(v, [...path, i], depth + 1, ctx));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === '' || LONE_SURROGATE.test(k)) {
      issue('member names must be non-empty valid Unicode');
      continue;
    }
    checkStorable(v, [...path, k], depth + 1, ctx);
  }
}

/** An item's free-form payload: any JSON object (not an array or a scalar). */
export const itemDataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((data, ctx) => checkStorable(data, [], 1, ctx))
  .describe('Any JSON object; stored as given (at most 350 KiB per item once stored)');

export const createItemBody = z.strictObject({
  name: itemNameSchema,
  data: itemDataSchema.default({}),
});

export const replaceItemBody = z.strictObject({
  name: itemNameSchema,
  data: itemDataSchema,
});

export const listItemsQuery = z.strictObject({
  limit: limitSchema(ITEM_PAGE_LIMIT.max, ITEM_PAGE_LIMIT.default),
  nextToken: z
    .string()
    .refine((t) => decodeItemPageToken(t) !== undefined, 'not a token this API issued')
    .optional()
    .describe('From the previous page; valid only for the tenant it was issued to'),
});

export const itemView = z.object({
  id: z.uuid(),
  name: z.string(),
  data: z.record(z.string(), z.unknown()),
  version: z.number().int().min(1).describe('Also the ETag ("<version>"); send it back as If-Match'),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  createdBy: z.string().describe('principalId of the creator'),
});

export const itemListView = z.object({
  items: z.array(itemView),
  nextToken: z.string().optional().describe('Absent on the last page'),
});

export const itemsOpenApi = {
  'GET /v1/items': { query: listItemsQuery, response: itemListView, responses: { 200: "A page of the tenant's items, in id order" } },
  'POST /v1/items': {
    body: createItemBody,
    response: itemView,
    responses: { 201: 'The new item (version 1), with ETag and Location headers' },
  },
  'GET /v1/items/{itemId}': { response: itemView, responses: { 200: 'The item, with its ETag' } },
  'PUT /v1/items/{itemId}': {
    body: replaceItemBody,
    response: itemView,
    responses: { 200: 'The replaced item (version + 1), with its new ETag. Without If-Match the last writer wins' },
  },
  'DELETE /v1/items/{itemId}': { responses: { 204: 'Deleted' } },
} satisfies GroupDoc;
