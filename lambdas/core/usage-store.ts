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
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from './errors.js';

export const usagePk = (tenant: string): string => `USAGE#${tenant}`;
export const usageSk = (keyId: string): string => `KEY#${keyId}`;

export interface KeyUsage {
  readonly keyId: string;
  readonly requests: number;
  readonly lastUsedAt: string;
}

function toUsage(item: Record<string, unknown>): KeyUsage {
  return { keyId: String(item.keyId), requests: Number(item.requests ?? 0), lastUsedAt: String(item.lastUsedAt) };
}

export class UsageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Adds `count` requests of key `keyId` (of `tenant`); `lastUsedAt` (ISO) only ever moves forward. */
  async add(keyId: string, tenant: string, count: number, lastUsedAt: string): Promise<void> {
    const Key = { pk: usagePk(tenant), sk: usageSk(keyId) };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'ADD requests :n SET lastUsedAt = :t, keyId = :k, tenant = :tenant, entity = :e',
          ConditionExpression: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :t',
          ExpressionAttributeValues: { ':n': count, ':t': lastUsedAt, ':k': keyId, ':tenant': tenant, ':e': 'usage' },
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw new DependencyError('usage-store', error);
    }
    // Someone recorded a later use already: count ours, keep theirs.
    try {
      await this.doc.send(
        new UpdateCommand({ TableName: this.tableName, Key, UpdateExpression: 'ADD requests :n', ExpressionAttributeValues: { ':n': count } }),
      );
    } catch (error) {
      throw new DependencyError('usage-store', error);
    }
  }

  /** The tenant's usage per key (only keys used at least once), or of one key; another tenant's key looks unused. */
  async listForTenant(tenant: string, options: { keyId?: string } = {}): Promise<KeyUsage[]> {
    try {
      if (options.keyId !== undefined) {
        const out = await this.doc.send(
          new GetCommand({ TableName: this.tableName, Key: { pk: usagePk(tenant), sk: usageSk(options.keyId) } }),
        );
        return out.Item ? [toUsage(out.Item)] : [];
      }
      const usage: KeyUsage[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': usagePk(tenant), ':prefix': 'KEY#' },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) usage.push(toUsage(item));
        start = out.LastEvaluatedKey;
      } while (start);
      return usage;
    } catch (error) {
      throw new DependencyError('usage-store', error);
    }
  }
}
