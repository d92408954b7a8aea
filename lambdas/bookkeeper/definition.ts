/**
 * What CDK needs to deploy the bookkeeper (the function that stores the authorizer's bookkeeping lines), in one
 * place and free of runtime dependencies: the entry file, the settings it reads, its table access, and the
 * subscription filter pattern to put on the authorizer's log group.
 */
import type { HandlerAccess } from '../api/group.js';
import { BOOKKEEPING_FILTER_PATTERN } from '../core/bookkeeping-channel.js';
import { METRIC_SERVICES } from '../core/metrics-catalog.js';

export const BOOKKEEPER = {
  /** NodejsFunction entry, relative to the package root (as the other functions' entries). */
  entry: 'lambdas/bookkeeper/handler',
  /** The exported handler. */
  handler: 'handler',
  /** The `service` of its logs and metrics. */
  service: METRIC_SERVICES.bookkeeper,
  /**
   * Usage: UpdateItem (ADD, and the occasional trim of the batch ids) on `USAGE#…` items; refusals: PutItem (a new
   * audit event, with its gsi1 keys) and UpdateItem (its count) on `TENANT#…#AUDIT` items. No reads, no index
   * access, no pepper, nothing outside DynamoDB.
   */
  access: { table: ['PutItem', 'UpdateItem'], network: 'isolated' } satisfies HandlerAccess,
  /** The partition-key prefixes it writes (for a `dynamodb:LeadingKeys` condition). */
  leadingKeys: ['USAGE#*', 'TENANT#*'],
  /** Settings read from the environment (settings.ts names; plus GATEHOUSE_DEPLOYMENT for the metrics). */
  settings: ['tableName', 'auditRetentionDays'] as const,
  /** The subscription filter on the authorizer's log group. */
  filterPattern: BOOKKEEPING_FILTER_PATTERN,
} as const;
