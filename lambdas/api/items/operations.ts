/**
 * The sample resource ("your API goes here"): a tenant's items, with optimistic concurrency through ETags.
 *
 * - Every item belongs to the caller's tenant; another tenant's item answers 404 exactly like a missing one (the
 *   store cannot even address it: the partition key is built from the caller's tenant).
 * - The ETag is the item's version, `"<version>"`. `If-Match` on PUT and DELETE makes the write conditional
 *   (RFC 9110 §13.1.1, strong comparison: a weak tag never matches); `*` matches any existing item. A false
 *   precondition answers 412 and changes nothing; its response carries the current ETag.
 * - PUT without If-Match is accepted and the last writer wins. This is a deliberate choice for a sample API: it
 *   keeps simple clients (curl, scripts) working, and clients that care about lost updates send If-Match. An API
 *   that must never lose an update would answer 428 Precondition Required instead (RFC 6585 §3).
 * - Preconditions are evaluated only against an existing item: PUT or DELETE of an absent item is 404 with or
 *   without If-Match (RFC 9110 §13.2.1: preconditions are ignored when the response would otherwise not be 2xx).
 * - Ids are server-generated UUIDs; PUT replaces an existing item and never creates one.
 * - A list page ends at `limit` items or at the response byte budget, whichever comes first (http/byte-budget.ts):
 *   up to 100 items of up to 350 KiB each would be far over Lambda's 6 MB response limit. `nextToken` then
 *   continues from the first item not returned. One item always fits a page (item-store's MAX_ITEM_BYTES).
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { GatehouseError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { ExpectedVersion, Item } from '../../core/item-store.js';
import { createApiHandler } from '../http/api-handler.js';
import { ByteBudget } from '../http/byte-budget.js';
import { json, noContent, type ApiRequest, type ApiResponse } from '../http/types.js';
import { createItemBody, itemIdSchema, listItemsQuery, replaceItemBody } from './schemas.js';
import { httpOptions, type Services } from '../services.js';

/** What clients see of an item: everything but the tenant (always their own). */
export function itemView(item: Item) {
  return {
    id: item.id,
    name: item.name,
    data: item.data,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    createdBy: item.createdBy,
  };
}

export const etagOf = (version: number): string => `"${version}"`;

const NOT_FOUND_DETAIL = 'No such item.';

/** The path's item id, lower-cased (UUIDs compare case-insensitively); 400 naming itemId when not a UUID. */
function itemIdOf(req: ApiRequest): string {
  const raw = req.pathParameters.itemId ?? '';
  if (!itemIdSchema.safeParse(raw).success) {
    throw new ValidationError('Invalid path: itemId.', [{ field: 'itemId', message: 'must be a UUID' }]);
  }
  return raw.toLowerCase();
}

/** At most this many entity tags in one If-Match (DynamoDB's IN takes up to 100 values). */
const MAX_IF_MATCH_TAGS = 20;
const ENTITY_TAG = /[ \t]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(,|$)/y;
const VERSION_TAG = /^[1-9][0-9]{0,14}$/;

/**
 * The version precondition of If-Match: undefined when absent or `*` (any existing item), else the versions its
 * strong tags name. A well-formed header naming no version of ours (`W/"1"`, `"abc"`) yields `[0]`: no item is
 * ever at version 0, so it can only fail (412 on an existing item).
 */
export function parseIfMatch(header: string | undefined): ExpectedVersion | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  const invalid = () =>
    new ValidationError('Invalid If-Match header: send "*" or entity tags such as "3".', [
      { field: 'If-Match', message: `"*" or up to ${MAX_IF_MATCH_TAGS} entity tags, e.g. "3"` },
    ]);
  if (value === '') throw invalid();
  const versions: number[] = [];
  let count = 0;
  ENTITY_TAG.lastIndex = 0;
  while (ENTITY_TAG.lastIndex < value.length) {
    const match = ENTITY_TAG.exec(value);
    if (!match) throw invalid();
    if (++count > MAX_IF_MATCH_TAGS) throw invalid();
    const [, weak, opaque = ''] = match;
    if (!weak && VERSION_TAG.test(opaque)) versions.push(Number(opaque));
    if (match[3] === ',' && ENTITY_TAG.lastIndex >= value.length) throw invalid(); // trailing comma
  }
  return versions.length > 0 ? [...new Set(versions)] : [0];
}

function preconditionFailed(current: Item): GatehouseError {
  return new GatehouseError('PRECONDITION_FAILED', 'The item has changed: If-Match does not match its current ETag.', {
    headers: { ETag: etagOf(current.version) },
  });
}

function withEtag(status: number, item: Item, extra: Record<string, string> = {}): ApiResponse {
  return json(status, itemView(item), { ETag: etagOf(item.version), ...extra });
}

export function createItemsHandler(services: Services) {
  const { items } = services;
  const iso = () => new Date(services.now()).toISOString();

  return createApiHandler(
    'items',
    {
      'GET /v1/items': {
        query: listItemsQuery,
        async handle(req: ApiRequest & { queryParams: z.output<typeof listItemsQuery> }) {
          const { limit, nextToken } = req.queryParams;
          const budget = new ByteBudget();
          const page = await items.list(req.principal.tenant, {
            limit,
            ...(nextToken === undefined ? {} : { nextToken }),
            fits: (item) => budget.tryAdd(itemView(item)),
          });
          return json(200, { items: page.items.map(itemView), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
        },
      },

      'POST /v1/items': {
        body: createItemBody,
        async handle(req: ApiRequest<z.output<typeof createItemBody>>) {
          const item = await items.create({
            id: randomUUID(),
            tenant: req.principal.tenant,
            name: req.body.name,
            data: req.body.data,
            createdBy: req.principal.principalId,
            createdAt: iso(),
          });
          return withEtag(201, item, { Location: `/v1/items/${item.id}` });
        },
      },

      'GET /v1/items/{itemId}': {
        async handle(req) {
          const item = await items.get(req.principal.tenant, itemIdOf(req));
          if (!item) throw new NotFoundError(NOT_FOUND_DETAIL);
          return withEtag(200, item);
        },
      },

      'PUT /v1/items/{itemId}': {
        body: replaceItemBody,
        async handle(req: ApiRequest<z.output<typeof replaceItemBody>>) {
          const id = itemIdOf(req);
          const expected = parseIfMatch(req.header('if-match'));
          // No If-Match: last writer wins (see the file comment).
          const result = await items.replace(req.principal.tenant, id, req.body, {
            updatedAt: iso(),
            ...(expected === undefined ? {} : { expected }),
          });
          if (result.outcome === 'not_found') throw new NotFoundError(NOT_FOUND_DETAIL);
          if (result.outcome === 'version_mismatch') throw preconditionFailed(result.current);
          return withEtag(200, result.item);
        },
      },

      'DELETE /v1/items/{itemId}': {
        async handle(req) {
          const id = itemIdOf(req);
          const expected = parseIfMatch(req.header('if-match'));
          const result = await items.delete(req.principal.tenant, id, expected === undefined ? {} : { expected });
          if (result.outcome === 'not_found') throw new NotFoundError(NOT_FOUND_DETAIL);
          if (result.outcome === 'version_mismatch') throw preconditionFailed(result.current);
          return noContent();
        },
      },
    },
    httpOptions(services),
  );
}

