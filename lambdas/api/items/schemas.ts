/**
 * Request and response shapes of the items routes (the sample resource); the validator and the OpenAPI document
 * both use them. Every object is strict: an unknown field is refused and named, never ignored.
 */
import * as z from 'zod';
import { decodeItemPageToken, ITEM_PAGE_LIMIT, MAX_DATA_DEPTH } from '../../core/item-store.js';
import { isoDateTime, limitSchema, type GroupDoc } from '../http/schemas.js';

// A lone UTF-16 surrogate cannot be stored as UTF-8: it would silently become U+FFFD.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Path parameter: item ids are server-generated UUIDs (any other string is a 400 naming itemId). */
export const itemIdSchema = z.uuid();

export const itemNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');

/**
 * Smallest non-zero magnitude accepted. It was DynamoDB's number range when data was stored as a map; data is now
 * JSON text, so it no longer has to be, but it stays part of what the API accepts. (Integers beyond 2^53 - 1 stay
 * refused for a reason that holds: JSON.parse has already rounded them, so they could not round-trip.)
 */
const MIN_MAGNITUDE = 1e-130;

/**
 * At most this many problems are reported about one `data`: a 1 MB body can hold 150,000 bad numbers, and a problem
 * per number would make a 400 of 15 MB, over Lambda's 6 MB response limit (and slow to build). The first ones are
 * enough to act on; a last problem says that more were left out.
 */
export const MAX_DATA_PROBLEMS = 10;

type Path = (string | number)[];

/**
 * Checks a JSON value against what the store keeps faithfully, calling `report` with each offending path: numbers
 * that JSON text round-trips (safe integers, and at least 1e-130 in magnitude as the API always required), no empty
 * or non-Unicode member names or strings, nesting at most {@link MAX_DATA_DEPTH} levels. Stops, returning false,
 * once `report` returns false (enough problems). The size limit is checked by the store (413), where the whole item
 * is known. Member names are only ever read (Object.entries), never assigned, so `__proto__` or `constructor` are
 * members like any other.
 */
function checkStorable(value: unknown, path: Path, depth: number, report: (message: string, path: Path) => boolean): boolean {
  if (typeof value === 'number') {
    const abs = Math.abs(value);
    if (!Number.isFinite(value) || abs > Number.MAX_SAFE_INTEGER) return report(`numbers must be within ±${Number.MAX_SAFE_INTEGER}`, path);
    if (abs !== 0 && abs < MIN_MAGNITUDE) return report('numbers must be 0 or at least 1e-130 in magnitude', path);
    return true;
  }
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? report('must be valid Unicode', path) : true;
  if (value === null || typeof value !== 'object') return true;
  if (depth > MAX_DATA_DEPTH) return report(`nested deeper than ${MAX_DATA_DEPTH} levels`, path);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!checkStorable(value[i], [...path, i], depth + 1, report)) return false;
    return true;
  }
  for (const [k, v] of Object.entries(value)) {
    const ok = k === '' || LONE_SURROGATE.test(k) ? report('member names must be non-empty valid Unicode', path) : checkStorable(v, [...path, k], depth + 1, report);
    if (!ok) return false;
  }
  return true;
}

const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An item's free-form payload: any JSON object (not an array or a scalar), passed on as parsed. Not `z.record`:
 * zod rebuilds records and deliberately drops a `__proto__` member, which would silently lose client data; this
 * schema only inspects the value and returns the very object JSON.parse made (whose `__proto__` member is an own
 * data property, harmless unless copied by assignment, which nothing downstream does).
 */
export const itemDataSchema = z
  .custom<Record<string, unknown>>(isJsonObject, { message: 'must be a JSON object' })
  .superRefine((data, ctx) => {
    let problems = 0;
    checkStorable(data, [], 1, (message, path) => {
      if (problems === MAX_DATA_PROBLEMS) {
        ctx.addIssue({ code: 'custom', message: `more problems not listed (only the first ${MAX_DATA_PROBLEMS} are)`, path: [] });
        return false;
      }
      problems++;
      ctx.addIssue({ code: 'custom', message, path: [...path] });
      return true;
    });
  })
  // For the OpenAPI document: z.custom has no JSON Schema of its own.
  .meta({ type: 'object', additionalProperties: {} })
  .describe('Any JSON object; stored as given (at most 350 KiB per item once stored)');

export const createItemBody = z.strictObject({
  name: itemNameSchema,
  data: itemDataSchema.default(() => ({})),
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
  data: itemDataSchema,
  version: z.number().int().min(1).describe('Also the ETag ("<version>"); send it back as If-Match'),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  createdBy: z.string().describe('principalId of the creator'),
});

export const itemListView = z.object({
  items: z.array(itemView),
  nextToken: z.string().optional().describe('Absent on the last page'),
});

const IF_MATCH = { name: 'If-Match', description: 'The ETag last seen; 412 if it changed' };

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
    headers: [IF_MATCH],
    errors: ['PRECONDITION_FAILED'],
  },
  'DELETE /v1/items/{itemId}': { responses: { 204: 'Deleted' }, headers: [IF_MATCH], errors: ['PRECONDITION_FAILED'] },
} satisfies GroupDoc;
