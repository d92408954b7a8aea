/**
 * The API-key store on DynamoDB (single-table design, see README "Data model").
 *
 * Key item: `pk = KEY#<id>`, `sk = KEY`; `gsi1pk = TENANT#<tenant>#KEYS`, `gsi1sk = <createdAt>#<id>` for listing a
 * tenant's keys newest first. The authorizer reads one item by its public id with a strongly consistent
 * GetItem (revocation must be seen at once) and then checks the keyed hash in constant time.
 *
 * Writes are conditional (no TransactWriteItems: dynalite, used in tests, lacks it, and none is needed):
 * create never overwrites, revoke only touches an existing key of the same tenant.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from './errors.js';
import type { KeyRecord } from './key-record.js';

export const keyPk = (id: string): string => `KEY#${id}`;
export const KEY_SK = 'KEY';
export const tenantKeysPk = (tenant: string): string => `TENANT#${tenant}#KEYS`;

/** Attributes that are storage mechanics, not part of the record. */
const STORAGE_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity'] as const;

export function toKeyRecord(item: Record<string, unknown>): KeyRecord {
  const copy: Record<string, unknown> = { ...item };
  for (const attr of STORAGE_ATTRIBUTES) delete copy[attr];
  return copy as unknown as KeyRecord;
}

export class KeyExistsError extends Error {
  constructor() {
    super('A key with this id already exists');
    this.name = 'KeyExistsError';
  }
}

export class DynamoKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One strongly consistent read. Store failures surface as DependencyError (the caller denies). */
  async get(id: string): Promise<KeyRecord | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: keyPk(id), sk: KEY_SK }, ConsistentRead: true }),
      );
      return out.Item ? toKeyRecord(out.Item) : undefined;
    } catch (error) {
      throw new DependencyError('key-store', error);
    }
  }

  async create(record: KeyRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: keyPk(record.id),
            sk: KEY_SK,
            entity: 'key',
            gsi1pk: tenantKeysPk(record.tenant),
            gsi1sk: `${record.createdAt}#${record.id}`,
            ...record,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new KeyExistsError();
      throw new DependencyError('key-store', error);
    }
  }

  /**
   * Sets revokedAt (if not already revoked earlier) for a key of `tenant`. Answers the record after the
   * write, or undefined when no such key exists for that tenant (another tenant's key looks absent).
   */
  async revoke(id: string, tenant: string, revokedAt: string): Promise<KeyRecord | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(id), sk: KEY_SK },
          UpdateExpression: 'SET revokedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND tenant = :tenant AND (attribute_not_exists(revokedAt) OR revokedAt > :at)',
          ExpressionAttributeValues: { ':at': revokedAt, ':tenant': tenant },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toKeyRecord(out.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // Either absent, another tenant's, or already revoked: re-read to tell the last case apart.
        const existing = await this.get(id);
        return existing && existing.tenant === tenant ? existing : undefined;
      }
      throw new DependencyError('key-store', error);
    }
  }
}
