/**
 * Usage per API key on DynamoDB (single-table design, see README "Data model").
 *
 * Usage item: `pk = USAGE#<tenant>`, `sk = KEY#<keyId>`; attributes keyId, tenant, requests (a number that only
 * grows, by `ADD`), lastUsedAt (ISO 8601). A tenant's usage is one Query on its partition, so no tenant can read
 * another's. There are no per-day counters: the API answers totals only, and each would double the writes.
 *
 * Writers are many containers flushing batches out of order, so `lastUsedAt` must only move forward. DynamoDB
 * has no per-attribute max, so {@link UsageStore.add} makes one conditional write (`ADD requests` and `SET
 * lastUsedAt` if ours is newer) and, only when that condition fails, a second, unconditional `ADD requests` —
 * a failed conditional write changes nothing, so the count is never added twice.
 *
 * Writers that may retry a batch (the bookkeeper: CloudWatch Logs redelivers a batch whose invocation failed) pass a
 * batch id: the item keeps the ids of the last batches that touched it (`batches`, a string set of at most
 * {@link USAGE_BATCH_IDS_HIGH} ids, trimmed to the newest {@link USAGE_BATCH_IDS_KEEP} by one extra write every so
 * often), and both writes are conditional on the id being absent, so a batch is counted once per key however often it
 * is retried — as long as fewer than {@link USAGE_BATCH_IDS_KEEP} other batches touched the key between the attempt
 * and its retry. A batch id starts with its time in base-36 seconds, which orders the trim.
 *
 * Reading is in pages ({@link UsageStore.page}): a tenant may have used any number of keys over time, and one
 * answer holding all of them could pass Lambda's 6 MB response limit (and read without end). A page token carries
 * only the last key id; the partition is rebuilt from the caller's tenant, as for items.
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isKeyId } from './api-key.js';
import { DependencyError, ValidationError } from './errors.js';
import { decodePageToken, encodePageToken } from './page-token.js';

export const usagePk = (tenant: string): string => `USAGE#${tenant}`;

/** Batch ids a usage item keeps after a trim, and the size that triggers one (see the file comment). */
export const USAGE_BATCH_IDS_KEEP = 16;
export const USAGE_BATCH_IDS_HIGH = 32;

/** What {@link UsageStore.add} did: counted, or found the batch already counted (a retry). */
export type UsageAddResult = 'added' | 'duplicate';

const batchTime = (id: string): number => {
  const dot = id.indexOf('.');
  const seconds = parseInt(dot < 0 ? id : id.slice(0, dot), 36);
  return Number.isFinite(seconds) ? seconds : 0;
};
export const usageSk = (keyId: string): string => `KEY#${keyId}`;

export interface KeyUsage {
  readonly keyId: string;
  readonly requests: number;
  readonly lastUsedAt: string;
}

/**
 * Rows per page. A row is a 12-character key id, a number and an ISO time: at most ~110 bytes even escaped inside
 * the Lambda invoke payload, so 1000 rows stay near 110 KB, far below the 5 MiB response budget.
 */
export const USAGE_PAGE_LIMIT = { min: 1, max: 1000, default: 1000 } as const;

export interface UsagePage {
  readonly usage: readonly KeyUsage[];
  /** Present when more rows may follow; opaque to clients. */
  readonly nextToken?: string;
}

/** Page tokens carry the key id a page continues after (see page-token.ts). */
export const encodeUsagePageToken = (afterKeyId: string): string => encodePageToken(afterKeyId);

/** The key id a page token continues after, or undefined when the token is not one this store minted. */
export const decodeUsagePageToken = (token: string): string | undefined => decodePageToken(token, isKeyId);

function toUsage(item: Record<string, unknown>): KeyUsage {
  return { keyId: String(item.keyId), requests: Number(item.requests ?? 0), lastUsedAt: String(item.lastUsedAt) };
}

export class UsageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Adds `count` requests of key `keyId` (of `tenant`); `lastUsedAt` (ISO) only ever moves forward. With `batchId`,
   * a batch already counted for this key is not counted again ('duplicate').
   */
  async add(keyId: string, tenant: string, count: number, lastUsedAt: string, batchId?: string): Promise<UsageAddResult> {
    const Key = { pk: usagePk(tenant), sk: usageSk(keyId) };
    const dedupe = batchId === undefined ? undefined : { values: { ':b': new Set([batchId]), ':id': batchId }, condition: 'NOT contains(batches, :id)' };
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `ADD requests :n${dedupe ? ', batches :b' : ''} SET lastUsedAt = :t, keyId = :k, tenant = :tenant, entity = :e`,
          ConditionExpression: `(attribute_not_exists(lastUsedAt) OR lastUsedAt < :t)${dedupe ? ` AND ${dedupe.condition}` : ''}`,
          ExpressionAttributeValues: { ':n': count, ':t': lastUsedAt, ':k': keyId, ':tenant': tenant, ':e': 'usage', ...dedupe?.values },
          ...(dedupe ? { ReturnValues: 'UPDATED_NEW' as const } : {}),
        }),
      );
      await this.trim(Key, out.Attributes?.batches);
      return 'added';
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw new DependencyError('usage-store', error);
    }
    // Someone recorded a later use already (or this batch was counted): count ours unless it was, keep theirs.
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `ADD requests :n${dedupe ? ', batches :b' : ''}`,
          ...(dedupe ? { ConditionExpression: dedupe.condition, ReturnValues: 'UPDATED_NEW' as const } : {}),
          ExpressionAttributeValues: { ':n': count, ...dedupe?.values },
        }),
      );
      await this.trim(Key, out.Attributes?.batches);
      return 'added';
    } catch (error) {
      if (dedupe && error instanceof Error && error.name === 'ConditionalCheckFailedException') return 'duplicate';
      throw new DependencyError('usage-store', error);
    }
  }

  /** Keeps the newest batch ids once the set has grown past the high mark (one write every few batches). */
  private async trim(Key: Record<string, string>, batches: unknown): Promise<void> {
    if (!(batches instanceof Set) || batches.size <= USAGE_BATCH_IDS_HIGH) return;
    const ids = [...(batches as Set<string>)].sort((a, b) => batchTime(b) - batchTime(a) || (a < b ? 1 : a > b ? -1 : 0));
    const old = new Set(ids.slice(USAGE_BATCH_IDS_KEEP));
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key, UpdateExpression: 'DELETE batches :old', ExpressionAttributeValues: { ':old': old } }));
  }

  /**
   * One page of the tenant's usage per key (only keys used at least once), by key id, or the usage of one key
   * (`keyId`: another tenant's key looks unused). `limit` is clamped to USAGE_PAGE_LIMIT. A token this store did
   * not mint is refused with a ValidationError naming `nextToken`. A token is returned only when more rows exist.
   */
  async page(tenant: string, options: { keyId?: string; limit?: number; nextToken?: string } = {}): Promise<UsagePage> {
    if (options.keyId !== undefined) return { usage: await this.one(tenant, options.keyId) };
    const limit = Math.min(USAGE_PAGE_LIMIT.max, Math.max(USAGE_PAGE_LIMIT.min, Math.trunc(options.limit ?? USAGE_PAGE_LIMIT.default)));
    let start: Record<string, unknown> | undefined;
    if (options.nextToken !== undefined) {
      const after = decodeUsagePageToken(options.nextToken);
      if (after === undefined) throw new ValidationError('Invalid query string: nextToken.', [{ field: 'nextToken', message: 'not a token this API issued' }]);
      start = { pk: usagePk(tenant), sk: usageSk(after) }; // the partition comes from the caller, never from the token
    }
    const rows: KeyUsage[] = [];
    try {
      // One more than asked, to know whether another page exists; DynamoDB may stop early at 1 MB, so loop.
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': usagePk(tenant), ':prefix': 'KEY#' },
            Limit: limit + 1 - rows.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) rows.push(toUsage(item));
        start = out.LastEvaluatedKey;
      } while (start && rows.length <= limit);
    } catch (error) {
      throw new DependencyError('usage-store', error);
    }
    const usage = rows.slice(0, limit);
    const last = usage.at(-1);
    return rows.length > limit && last ? { usage, nextToken: encodeUsagePageToken(last.keyId) } : { usage };
  }

  /** All of the tenant's usage, page after page (tests and tools; the API serves {@link page}). */
  async listForTenant(tenant: string, options: { keyId?: string } = {}): Promise<KeyUsage[]> {
    if (options.keyId !== undefined) return this.one(tenant, options.keyId);
    const usage: KeyUsage[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.page(tenant, nextToken === undefined ? {} : { nextToken });
      usage.push(...page.usage);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return usage;
  }

  private async one(tenant: string, keyId: string): Promise<KeyUsage[]> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: usagePk(tenant), sk: usageSk(keyId) } }));
      return out.Item ? [toUsage(out.Item)] : [];
    } catch (error) {
      throw new DependencyError('usage-store', error);
    }
  }
}
