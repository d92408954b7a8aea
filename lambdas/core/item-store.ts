/**
 * The sample resource's store: tenant-isolated items with optimistic concurrency, on the single table
 * (README "Data model").
 *
 * Item: `pk = TENANT#<tenant>#ITEMS`, `sk = ITEM#<itemId>`; attributes id, tenant, name, dataJson (the data object
 * as JSON text), version (integer from 1, +1 on every replace), createdAt, updatedAt, createdBy, plus `entity = item`.
 *
 * Why `data` is stored as JSON text rather than as a DynamoDB map: the SDK's marshaller (@aws-sdk/util-dynamodb)
 * picks a DynamoDB type by reading `value.constructor.name` and copies members with `map[key] = …`, so client data
 * with a `constructor` member was refused (a 503) or silently stored as something else (`{"constructor":{"name":
 * "String"}}` became the string "[object Object]"), and a `__proto__` member vanished or broke the request. JSON text
 * goes through no such path: what was written is what is read, byte for byte as JSON, member order included (a
 * DynamoDB map keeps no order). Items written before this change hold `data` as a map; they are read as before,
 * and their next replace rewrites them as text (see {@link decodeItemData}). Nothing queries inside `data`.
 *
 * Tenant isolation is by key construction, never by a filter: every method takes the caller's tenant and builds the
 * partition key from it, so another tenant's item is simply not in the partition being read or written. Listing is
 * one Query on the base table (no GSI), in item-id order. The page token carries only the last item id; the
 * partition is rebuilt from the caller's tenant, so a token minted for tenant A can only ever page through the
 * partition of whoever presents it.
 *
 * Writes are conditional (no transactions): create never overwrites (`attribute_not_exists`), replace and delete
 * need the item to exist and, when asked, to be at an expected version. A refused condition is told apart
 * ("absent" vs "version mismatch") by one strongly consistent re-read, as key-store's revoke does.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyError, GatehouseError, ValidationError } from './errors.js';
import { decodePageToken, encodePageToken } from './page-token.js';

export const tenantItemsPk = (tenant: string): string => `TENANT#${tenant}#ITEMS`;
export const ITEM_SK_PREFIX = 'ITEM#';
export const itemSk = (id: string): string => `${ITEM_SK_PREFIX}${id}`;

export const ITEM_PAGE_LIMIT = { min: 1, max: 100, default: 25 } as const;

/**
 * Largest item accepted, in bytes, measured both as JSON and as DynamoDB counts item size (whichever is larger).
 * DynamoDB's hard limit is 400 KB; the margin keeps a refusal a clean 413 instead of a store error. It also bounds
 * every item response whatever GATEHOUSE_MAX_BODY_BYTES allows: one item's JSON, escaped once more in the Lambda
 * invoke payload, is at most twice this (700 KiB), far below the 6 MB response limit and the list page budget.
 */
export const MAX_ITEM_BYTES = 350 * 1024;

/**
 * How deeply `data` may nest. It came from DynamoDB's 32-level document limit, which no longer applies to data
 * stored as JSON text; it is kept because it is part of what the API accepts and bounds validation's recursion.
 */
export const MAX_DATA_DEPTH = 30;

export type ItemData = Record<string, unknown>;

export interface Item {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly data: ItemData;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
}

export interface NewItem {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly data: ItemData;
  readonly createdBy: string;
  /** ISO timestamp; also the first updatedAt. */
  readonly createdAt: string;
}

export interface ItemContent {
  readonly name: string;
  readonly data: ItemData;
}

export interface ItemPage {
  readonly items: readonly Item[];
  /** Present when more items may follow; opaque to clients. */
  readonly nextToken?: string;
}

/**
 * A version precondition: the write happens only if the stored version is one of these. Absent means "any
 * existing item" (If-Match absent or `*`).
 */
export type ExpectedVersion = number | readonly number[];

export type ItemWriteResult =
  | { readonly outcome: 'ok'; readonly item: Item }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'version_mismatch'; readonly current: Item };

export type ItemDeleteResult =
  | { readonly outcome: 'deleted'; readonly item: Item }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'version_mismatch'; readonly current: Item };

/** The item would not fit DynamoDB's item size limit (with margin). */
export class ItemTooLargeError extends GatehouseError {
  constructor() {
    super('PAYLOAD_TOO_LARGE', `The item exceeds ${MAX_ITEM_BYTES} bytes once stored; make data smaller.`);
  }
}

/** A create hit an existing id (a UUID collision: a bug or an astronomically unlikely event). */
export class ItemExistsError extends Error {
  constructor() {
    super('An item with this id already exists');
    this.name = 'ItemExistsError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Page tokens carry the last item id (see page-token.ts).

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const encodeItemPageToken = (afterId: string): string => encodePageToken(afterId);

/** The item id a page token continues after, or undefined when the token is not one this store minted. */
export const decodeItemPageToken = (token: string): string | undefined => decodePageToken(token, (id) => UUID_RE.test(id));

// ---------------------------------------------------------------------------------------------------------------
// Size: DynamoDB's own accounting (attribute names + values; numbers by significant digits; 3 bytes per list or
// map plus 1 per element), as documented in "Item sizes and formats".

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

function numberSize(n: number): number {
  const digits = Math.abs(n)
    .toExponential()
    .split('e')[0]!
    .replace('.', '').length;
  return 1 + Math.ceil(digits / 2);
}

export function dynamoValueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number') return numberSize(value);
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + 1 + dynamoValueSize(v), 3);
  if (typeof value === 'object') {
    let sum = 3;
    for (const [k, v] of Object.entries(value)) sum += 1 + utf8(k) + dynamoValueSize(v);
    return sum;
  }
  if (typeof value === 'bigint') return 1 + Math.ceil(value.toString().replace('-', '').length / 2);
  return 0; // functions and symbols are not stored
}

function dynamoItemSize(item: Record<string, unknown>): number {
  let sum = 0;
  for (const [k, v] of Object.entries(item)) sum += utf8(k) + dynamoValueSize(v);
  return sum;
}

/** Room left for the attributes a replace does not rewrite (createdBy, createdAt, …). */
const UNCHANGED_ATTRIBUTES_ALLOWANCE = 2048;

/**
 * Refuses a stored item (with its data as JSON text in `dataJson`) larger than MAX_ITEM_BYTES either as DynamoDB
 * counts it or as its JSON (the data text counted as it will appear in a response, not escaped as a string).
 */
function assertFits(stored: Record<string, unknown> & { dataJson: string }, allowance = 0): void {
  const { dataJson, ...rest } = stored;
  const asJson = utf8(JSON.stringify(rest)) + utf8(dataJson);
  const size = Math.max(asJson, dynamoItemSize(stored)) + allowance;
  if (size > MAX_ITEM_BYTES) throw new ItemTooLargeError();
}

function isItemTooLarge(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && /item size/i.test(error.message);
}

// ---------------------------------------------------------------------------------------------------------------

/** The stored form of an item's data: its JSON text (see the file comment). */
export const encodeItemData = (data: ItemData): string => JSON.stringify(data);

/**
 * An item's data from its stored attributes: the JSON text in `dataJson`, or, for an item written before data was
 * stored as text, the DynamoDB map in `data`.
 */
export function decodeItemData(raw: Record<string, unknown>): ItemData {
  if (typeof raw.dataJson === 'string') return JSON.parse(raw.dataJson) as ItemData;
  return (raw.data ?? {}) as ItemData;
}

export function toItem(raw: Record<string, unknown>): Item {
  return {
    id: raw.id as string,
    tenant: raw.tenant as string,
    name: raw.name as string,
    data: decodeItemData(raw),
    version: raw.version as number,
    createdAt: raw.createdAt as string,
    updatedAt: raw.updatedAt as string,
    createdBy: raw.createdBy as string,
  };
}

function requireTenant(tenant: string): string {
  // An empty tenant would be a bug upstream; never let it name a shared partition.
  if (tenant === '') throw new Error('ItemStore needs a tenant');
  return tenant;
}

const key = (tenant: string, id: string) => ({ pk: tenantItemsPk(requireTenant(tenant)), sk: itemSk(id) });

/** `version = :v0` or `version IN (:v0, :v1, …)`; values added to `values`. */
function versionCondition(expected: ExpectedVersion, values: Record<string, unknown>): string {
  const list = typeof expected === 'number' ? [expected] : [...expected];
  if (list.length === 0) throw new Error('ExpectedVersion must name at least one version');
  list.forEach((v, i) => (values[`:v${i}`] = v));
  return list.length === 1 ? '#version = :v0' : `#version IN (${list.map((_, i) => `:v${i}`).join(', ')})`;
}

export class ItemStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes a new item at version 1. Throws ItemTooLargeError, ItemExistsError or DependencyError. */
  async create(input: NewItem): Promise<Item> {
    const item: Item = {
      id: input.id,
      tenant: input.tenant,
      name: input.name,
      data: input.data,
      version: 1,
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
      createdBy: input.createdBy,
    };
    const { data, ...attributes } = item;
    const stored = { ...key(item.tenant, item.id), entity: 'item', ...attributes, dataJson: encodeItemData(data) };
    assertFits(stored);
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: stored, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return item;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ItemExistsError();
      if (isItemTooLarge(error)) throw new ItemTooLargeError();
      throw new DependencyError('item-store', error);
    }
  }

  /** One strongly consistent read; undefined when the tenant has no such item (another tenant's looks absent). */
  async get(tenant: string, id: string): Promise<Item | undefined> {
    let raw: Record<string, unknown> | undefined;
    try {
      raw = (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key(tenant, id), ConsistentRead: true }))).Item;
    } catch (error) {
      throw new DependencyError('item-store', error);
    }
    return raw ? toItem(raw) : undefined;
  }

  /**
   * One page of the tenant's items in id order. `limit` is clamped to 1–100 (default 25). A `nextToken` that this
   * store did not mint is refused with a ValidationError naming `nextToken`. No trailing empty page: a token is
   * returned only when at least one more item exists.
   *
   * `fits`, when given, is asked about each item in order and the page ends before the first it refuses (the
   * handler's response byte budget); the token then continues from that item. Reading stops there too, so a page
   * of large items never reads more than it returns. The first item of a page must fit: a page that could return
   * nothing would hand back a token that never makes progress, so that throws (items are bounded on write).
   */
  async list(tenant: string, options: { limit?: number; nextToken?: string; fits?: (item: Item) => boolean } = {}): Promise<ItemPage> {
    const limit = Math.min(ITEM_PAGE_LIMIT.max, Math.max(ITEM_PAGE_LIMIT.min, Math.trunc(options.limit ?? ITEM_PAGE_LIMIT.default)));
    const pk = tenantItemsPk(requireTenant(tenant));
    let startKey: Record<string, unknown> | undefined;
    if (options.nextToken !== undefined) {
      const after = decodeItemPageToken(options.nextToken);
      if (after === undefined) {
        throw new ValidationError('Invalid query string: nextToken.', [{ field: 'nextToken', message: 'not a token this API issued' }]);
      }
      // The partition comes from the caller, never from the token.
      startKey = { pk, sk: itemSk(after) };
    }
    const items: Item[] = [];
    let more = false;
    // Read one more than asked to know whether another page exists; DynamoDB may stop early at 1 MB, so loop.
    do {
      const out = await this.queryPage(pk, limit + 1 - items.length, startKey);
      for (const raw of out.Items ?? []) {
        const item = items.length < limit ? toItem(raw) : undefined;
        if (!item || (options.fits && !options.fits(item))) {
          more = true;
          break;
        }
        items.push(item);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey && !more);
    if (more && items.length === 0) throw new Error('An item does not fit an empty page');
    const last = items.at(-1);
    return more && last ? { items, nextToken: encodeItemPageToken(last.id) } : { items };
  }

  private async queryPage(pk: string, limit: number, startKey: Record<string, unknown> | undefined) {
    try {
      return await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': ITEM_SK_PREFIX },
          Limit: limit,
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
    } catch (error) {
      throw new DependencyError('item-store', error);
    }
  }

  /**
   * Replaces name and data of an existing item, incrementing its version, if its version is one of `expected`
   * (any version when absent). Throws ItemTooLargeError or DependencyError.
   */
  async replace(tenant: string, id: string, content: ItemContent, options: { updatedAt: string; expected?: ExpectedVersion }): Promise<ItemWriteResult> {
    const k = key(tenant, id);
    const dataJson = encodeItemData(content.data);
    assertFits({ ...k, entity: 'item', id, tenant, name: content.name, dataJson, version: 0, updatedAt: options.updatedAt }, UNCHANGED_ATTRIBUTES_ALLOWANCE);
    const values: Record<string, unknown> = { ':name': content.name, ':dataJson': dataJson, ':at': options.updatedAt, ':one': 1 };
    let condition = 'attribute_exists(pk)';
    if (options.expected !== undefined) condition += ` AND ${versionCondition(options.expected, values)}`;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: k,
          // REMOVE drops the map of an item written before data was stored as text (a no-op otherwise).
          UpdateExpression: 'SET #name = :name, #dataJson = :dataJson, #updatedAt = :at, #version = #version + :one REMOVE #data',
          ConditionExpression: condition,
          // NAME and DATA are DynamoDB reserved words.
          ExpressionAttributeNames: { '#name': 'name', '#dataJson': 'dataJson', '#data': 'data', '#updatedAt': 'updatedAt', '#version': 'version' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!out.Attributes) throw new Error('UpdateItem returned no attributes');
      return { outcome: 'ok', item: toItem(out.Attributes) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.explainRefusal(tenant, id);
      if (isItemTooLarge(error)) throw new ItemTooLargeError();
      throw new DependencyError('item-store', error);
    }
  }

  /** Deletes an existing item if its version is one of `expected` (any version when absent). */
  async delete(tenant: string, id: string, options: { expected?: ExpectedVersion } = {}): Promise<ItemDeleteResult> {
    const values: Record<string, unknown> = {};
    let condition = 'attribute_exists(pk)';
    if (options.expected !== undefined) condition += ` AND ${versionCondition(options.expected, values)}`;
    try {
      const out = await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key(tenant, id),
          ConditionExpression: condition,
          ...(options.expected !== undefined ? { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!out.Attributes) throw new Error('DeleteItem returned no attributes');
      return { outcome: 'deleted', item: toItem(out.Attributes) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.explainRefusal(tenant, id);
      throw new DependencyError('item-store', error);
    }
  }

  /** After a refused condition: absent (or another tenant's), or present at another version. */
  private async explainRefusal(tenant: string, id: string): Promise<{ outcome: 'not_found' } | { outcome: 'version_mismatch'; current: Item }> {
    const current = await this.get(tenant, id);
    return current ? { outcome: 'version_mismatch', current } : { outcome: 'not_found' };
  }
}
