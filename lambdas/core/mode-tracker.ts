/**
 * Records changes of the authentication mode (enforce / audit / off) in the audit trail.
 *
 * Config item: `pk = CONFIG`, `sk = MODE`; attributes mode, changedAt. At cold start the authorizer compares its
 * configured mode with the item. When they differ (or there is no item yet) it moves the item from the value it
 * read to its own with a conditional write (`mode = :previous`, or `attribute_not_exists` the first time) and,
 * only if that write won, writes ONE `mode.changed` event (tenant SYSTEM_TENANT, details {from, to}; `from` is
 * `none` the first time). Many containers starting at once with a new mode therefore produce one event: the others
 * lose the conditional write, re-read, and find the mode already theirs.
 *
 * If the process dies between the two writes the change goes unrecorded (there is no transaction to make them
 * one: dynalite has none); the loss is logged by the caller when the audit write fails.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SYSTEM_TENANT, type AuditSink } from './audit.js';
import { DependencyError } from './errors.js';
import type { AuthMode } from './settings.js';

export const CONFIG_PK = 'CONFIG';
export const MODE_SK = 'MODE';
/** `from` of the first recorded mode. */
export const NO_PREVIOUS_MODE = 'none';

export interface ModeTrackerDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly audit: AuditSink;
  readonly now?: () => number;
}

export type ModeTrackResult =
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'changed'; readonly from: string; readonly to: AuthMode }
  /** Another container recorded the change first. */
  | { readonly outcome: 'lost_race' };

const isConditionFailure = (error: unknown): boolean => error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** Compares `mode` with the stored one and records a change exactly once. Throws DependencyError on store failures. */
export async function trackAuthMode(deps: ModeTrackerDeps, mode: AuthMode): Promise<ModeTrackResult> {
  const Key = { pk: CONFIG_PK, sk: MODE_SK };
  let previous: string | undefined;
  try {
    const out = await deps.doc.send(new GetCommand({ TableName: deps.tableName, Key, ConsistentRead: true }));
    previous = typeof out.Item?.mode === 'string' ? out.Item.mode : undefined;
  } catch (error) {
    throw new DependencyError('mode-tracker', error);
  }
  if (previous === mode) return { outcome: 'unchanged' };

  const changedAt = new Date((deps.now ?? Date.now)()).toISOString();
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key,
        UpdateExpression: 'SET #mode = :to, changedAt = :at, entity = :entity',
        ConditionExpression: previous === undefined ? 'attribute_not_exists(pk)' : '#mode = :from',
        ExpressionAttributeNames: { '#mode': 'mode' },
        ExpressionAttributeValues: {
          ':to': mode,
          ':at': changedAt,
          ':entity': 'config',
          ...(previous === undefined ? {} : { ':from': previous }),
        },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) return { outcome: 'lost_race' };
    throw new DependencyError('mode-tracker', error);
  }

  const from = previous ?? NO_PREVIOUS_MODE;
  await deps.audit.record({ type: 'mode.changed', tenant: SYSTEM_TENANT, actor: 'gatehouse-authorizer', at: changedAt, details: { from, to: mode } });
  return { outcome: 'changed', from, to: mode };
}
