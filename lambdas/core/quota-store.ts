/**
 * Quota counters on DynamoDB, spent through leases (docs/plans.md "How quotas are counted").
 *
 * Item: `pk = QUOTA#<subject>`, `sk = <period id>` (`D2026-12-02`, `M2026-12`); `granted` = units handed out to
 * containers this period; `ttl` a day after the period ends. A container takes a block of units with ONE conditional
 * update (`ADD granted :n` if `granted <= limit − n`) and spends it in memory, so the allow path costs one write per
 * block, not per request. `granted` never passes the limit: the quota never overshoots. What a lease costs instead is
 * units a container holds but does not spend (it went idle, or was reaped): at most (containers − 1) × block units a
 * period, so a key may be refused that many requests early (plan-limiter.ts picks the block: 1 % of the quota).
 *
 * Subjects: `KEY#<keyId>` for API keys (the usage API reads them by key id), `TOKEN#<digest>` for token principals
 * (a digest: a `sub` may be long and is nobody's business in a table key).
 */
import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGet } from './batch-get.js';
import { DependencyError } from './errors.js';
import type { PeriodWindow } from './plans.js';
import type { Principal } from './principal.js';
import { TTL_ATTRIBUTE } from './table.js';

export const quotaPk = (subject: string): string => `QUOTA#${subject}`;

/** The counter subject of a principal: its key, or a digest of the token principal's tenant and id. */
export function quotaSubject(principal: Pick<Principal, 'keyId' | 'tenant' | 'principalId'>): string {
  if (principal.keyId !== undefined) return keySubject(principal.keyId);
  return `TOKEN#${createHash('sha256').update(`${principal.tenant}\u0000${principal.principalId}`).digest('base64url')}`;
}

export const keySubject = (keyId: string): string => `KEY#${keyId}`;

/** What a lease got: `granted` units (0 = the quota is used up), and the period's total handed out after it. */
export interface Lease {
  readonly granted: number;
  readonly total: number;
}

/** Attempts at a lease before giving up (contention at the very end of a quota; each retry asks for what is left). */
const LEASE_ATTEMPTS = 4;

export interface QuotaLeases {
  lease(subject: string, window: PeriodWindow, limit: number, want: number): Promise<Lease>;
}

const isConditionFailure = (error: unknown): boolean => error instanceof Error && error.name === 'ConditionalCheckFailedException';

export class QuotaStore implements QuotaLeases {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Takes up to `want` units of the period's `limit`: all of them if they are there, else what is left (0 when none
   * is). One write when the block is there; a read and a smaller write near the end of the quota.
   */
  async lease(subject: string, window: PeriodWindow, limit: number, want: number): Promise<Lease> {
    let ask = Math.min(want, limit);
    for (let attempt = 0; attempt < LEASE_ATTEMPTS && ask > 0; attempt++) {
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: quotaPk(subject), sk: window.id },
            UpdateExpression: 'ADD granted :n SET entity = :e, #ttl = if_not_exists(#ttl, :ttl)',
            ConditionExpression: 'attribute_not_exists(granted) OR granted <= :max',
            ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':n': ask, ':max': limit - ask, ':e': 'quota', ':ttl': Math.floor(window.endMs / 1000) + 86_400 },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { granted: ask, total: Number(out.Attributes?.granted ?? ask) };
      } catch (error) {
        if (!isConditionFailure(error)) throw new DependencyError('quota-store', error);
      }
      const total = await this.granted(subject, window.id);
      ask = Math.min(ask, limit - total);
      if (ask <= 0) return { granted: 0, total };
    }
    return { granted: 0, total: limit };
  }

  /** Units handed out for `subject` in period `periodId` (strongly consistent). */
  async granted(subject: string, periodId: string): Promise<number> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: quotaPk(subject), sk: periodId }, ConsistentRead: true }));
      return Number(out.Item?.granted ?? 0);
    } catch (error) {
      throw new DependencyError('quota-store', error);
    }
  }

  /** Units handed out per subject for the given (subject, period) pairs: the usage API's view, 100 per request. */
  async grantedMany(pairs: readonly { subject: string; periodId: string }[]): Promise<Map<string, number>> {
    const items = await batchGet(this.doc, this.tableName, pairs.map((p) => ({ pk: quotaPk(p.subject), sk: p.periodId })), 'quota-store');
    return new Map(items.map((item) => [`${String(item.pk).slice('QUOTA#'.length)}|${String(item.sk)}`, Number(item.granted ?? 0)]));
  }
}
