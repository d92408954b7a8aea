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
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGet } from './batch-get.js';
import { DependencyError, ValidationError } from './errors.js';
import { isCanonicalInstant } from './instant.js';
import { GSI1 } from './table.js';
import type { KeyRecord } from './key-record.js';

export const keyPk = (id: string): string => `KEY#${id}`;
export const KEY_SK = 'KEY';
export const tenantKeysPk = (tenant: string): string => `TENANT#${tenant}#KEYS`;

/**
 * Instants are stored in the canonical UTC form and compared as strings in conditions. Before request instants
 * were bounded, an expiry past year 9999 could be stored as `+010000-…`, which sorts before every four-digit
 * year although it lies after them: conditions treat such a value (prefix `+`) as the far future it is, as
 * keyState does.
 */
const EXPANDED_YEAR_PREFIX = '+';

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

  /** A key of `tenant`, or undefined (another tenant's key looks absent). */
  async getForTenant(id: string, tenant: string): Promise<KeyRecord | undefined> {
    const record = await this.get(id);
    return record && record.tenant === tenant ? record : undefined;
  }

  /** The tenant's keys among `ids` (another tenant's, or a missing one, is simply absent), 100 per request. */
  async getManyForTenant(ids: readonly string[], tenant: string): Promise<Map<string, KeyRecord>> {
    const items = await batchGet(this.doc, this.tableName, ids.map((id) => ({ pk: keyPk(id), sk: KEY_SK })), 'key-store');
    const records = items.map(toKeyRecord).filter((r) => r.tenant === tenant);
    return new Map(records.map((r) => [r.id, r]));
  }

  /**
   * Sets revokedAt (unless already revoked at or before that time) for a key of `tenant`. `changed` is false when
   * the key was already revoked; undefined when no such key exists for that tenant.
   */
  async revoke(
    id: string,
    tenant: string,
    revokedAt: string,
    options: { mayTouchAdminKey?: boolean } = {},
  ): Promise<{ record: KeyRecord; changed: boolean } | { forbidden: true } | undefined> {
    // Only an administrator may revoke the bootstrap admin key, even from inside its own tenant.
    const adminGuard = options.mayTouchAdminKey ? '' : ' AND attribute_not_exists(admin)';
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(id), sk: KEY_SK },
          UpdateExpression: 'SET revokedAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND tenant = :tenant AND ' +
            `(attribute_not_exists(revokedAt) OR revokedAt > :at OR begins_with(revokedAt, :expanded))${adminGuard}`,
          ExpressionAttributeValues: { ':at': revokedAt, ':tenant': tenant, ':expanded': EXPANDED_YEAR_PREFIX },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? { record: toKeyRecord(out.Attributes), changed: true } : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // Absent, another tenant's, an admin key, or already revoked: re-read to tell them apart.
        const existing = await this.getForTenant(id, tenant);
        if (existing?.admin === true && !options.mayTouchAdminKey) return { forbidden: true };
        return existing ? { record: existing, changed: false } : undefined;
      }
      throw new DependencyError('key-store', error);
    }
  }

  /**
   * Puts key `id` of `tenant` on `plan`; answers the updated record, `forbidden` for the bootstrap admin key (unless
   * the caller may touch it), or undefined when the tenant has no such key.
   */
  async setPlan(id: string, tenant: string, plan: string, options: { mayTouchAdminKey?: boolean } = {}): Promise<{ record: KeyRecord } | { forbidden: true } | undefined> {
    const adminGuard = options.mayTouchAdminKey ? '' : ' AND attribute_not_exists(admin)';
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(id), sk: KEY_SK },
          UpdateExpression: 'SET #plan = :plan',
          ConditionExpression: `attribute_exists(pk) AND tenant = :tenant${adminGuard}`,
          ExpressionAttributeNames: { '#plan': 'plan' },
          ExpressionAttributeValues: { ':plan': plan, ':tenant': tenant },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? { record: toKeyRecord(out.Attributes) } : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const existing = await this.getForTenant(id, tenant);
        return existing?.admin === true && !options.mayTouchAdminKey ? { forbidden: true } : undefined;
      }
      throw new DependencyError('key-store', error);
    }
  }

  /**
   * Marks `id` as rotated to `successorId`: refused from `graceUntil` on. Only an active, never-rotated key of
   * `tenant` can be rotated; answers the updated record, or the reason it cannot be.
   */
  async markRotated(
    id: string,
    tenant: string,
    successorId: string,
    graceUntil: string,
    now: string,
  ): Promise<{ record: KeyRecord } | { refused: 'absent' | 'revoked' | 'already_rotated' | 'expired' }> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(id), sk: KEY_SK },
          UpdateExpression: 'SET revokedAt = :grace, graceUntil = :grace, rotatedTo = :successor',
          ConditionExpression:
            'attribute_exists(pk) AND tenant = :tenant AND attribute_not_exists(rotatedTo) AND ' +
            '(attribute_not_exists(revokedAt) OR revokedAt > :now OR begins_with(revokedAt, :expanded)) AND ' +
            '(attribute_not_exists(expiresAt) OR expiresAt > :now OR begins_with(expiresAt, :expanded))',
          ExpressionAttributeValues: { ':grace': graceUntil, ':successor': successorId, ':tenant': tenant, ':now': now, ':expanded': EXPANDED_YEAR_PREFIX },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { record: toKeyRecord(out.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw new DependencyError('key-store', error);
      const existing = await this.getForTenant(id, tenant);
      if (!existing) return { refused: 'absent' };
      if (existing.rotatedTo !== undefined) return { refused: 'already_rotated' };
      if (existing.revokedAt !== undefined && existing.revokedAt <= now) return { refused: 'revoked' };
      return { refused: 'expired' };
    }
  }

  /**
   * Undoes {@link markRotated} when a rotation cannot complete after the old key was marked (its audit event could
   * not be written): puts back the old key's revokedAt and graceUntil as they were in `previous` and removes
   * rotatedTo — only while the mark is still exactly ours (a revocation since then is kept). Answers whether it did.
   */
  async restoreRotated(previous: KeyRecord, successorId: string, graceUntil: string): Promise<boolean> {
    const set: string[] = [];
    const remove = ['rotatedTo'];
    const values: Record<string, string> = { ':successor': successorId, ':grace': graceUntil, ':tenant': previous.tenant };
    for (const attr of ['revokedAt', 'graceUntil'] as const) {
      const value = previous[attr];
      if (value === undefined) {
        remove.push(attr);
      } else {
        set.push(`${attr} = :prev_${attr}`);
        values[`:prev_${attr}`] = value;
      }
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keyPk(previous.id), sk: KEY_SK },
          UpdateExpression: [set.length > 0 ? `SET ${set.join(', ')}` : '', `REMOVE ${remove.join(', ')}`].filter(Boolean).join(' '),
          ConditionExpression: 'tenant = :tenant AND rotatedTo = :successor AND graceUntil = :grace AND revokedAt = :grace',
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new DependencyError('key-store', error);
    }
  }

  /** A page of the tenant's keys, newest first. The token carries only a position and is bound to the tenant. */
  async listForTenant(tenant: string, limit: number, nextToken?: string): Promise<{ records: KeyRecord[]; nextToken?: string }> {
    const start = nextToken === undefined ? undefined : decodeKeyPageToken(nextToken);
    try {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI1.name,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': tenantKeysPk(tenant) },
          ScanIndexForward: false,
          Limit: limit,
          ...(start
            ? { ExclusiveStartKey: { gsi1pk: tenantKeysPk(tenant), gsi1sk: `${start.createdAt}#${start.id}`, pk: keyPk(start.id), sk: KEY_SK } }
            : {}),
        }),
      );
      const records = (out.Items ?? []).map(toKeyRecord);
      const last = out.LastEvaluatedKey ? records[records.length - 1] : undefined;
      return last ? { records, nextToken: encodeKeyPageToken(last) } : { records };
    } catch (error) {
      throw new DependencyError('key-store', error);
    }
  }
}

const KEY_ID_SHAPE = /^[0-9A-Za-z]{12}$/;

function encodeKeyPageToken(record: KeyRecord): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.id])).toString('base64url');
}

function decodeKeyPageToken(token: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && isCanonicalInstant(createdAt) && KEY_ID_SHAPE.test(id)) return { createdAt, id };
  } catch {
    // fall through
  }
  throw new ValidationError('Invalid nextToken.', [{ field: 'nextToken', message: 'not a token this API issued' }]);
}
