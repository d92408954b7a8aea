/**
 * Lambda entry point of the bookkeeper, subscribed (CloudWatch Logs subscription filter
 * {@link BOOKKEEPER}.filterPattern) to the authorizer's log group. Each invocation is one batch of one log stream's
 * bookkeeping lines; it answers once every write is done, and fails — so the batch is retried — if any write failed.
 * The refusal recorder stays warm across invocations of a container (bookkeeper.ts).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { createDocumentClient } from '../authorizer/wiring.js';
import { AuditStore } from '../core/audit-store.js';
import { ConfigError } from '../core/errors.js';
import type { Log } from '../core/log.js';
import { createLogger } from '../core/logger.js';
import { createEmfMetrics, deploymentName, type MetricsSink } from '../core/metrics.js';
import { readSettings } from '../core/settings.js';
import { UsageStore } from '../core/usage-store.js';
import { createBookkeeper, type BatchOutcome, type Bookkeeper } from './bookkeeper.js';
import { BOOKKEEPER } from './definition.js';
import { decodeLogsEvent } from './logs-event.js';

export { BOOKKEEPER } from './definition.js';

export interface BookkeeperHandlerOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly doc?: DynamoDBDocumentClient;
  readonly log?: Log;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

export function createBookkeeperHandler(options: BookkeeperHandlerOptions = {}) {
  const log = options.log ?? createLogger(BOOKKEEPER.service);
  const metrics = options.metrics ?? createEmfMetrics({ service: BOOKKEEPER.service, deployment: deploymentName(options.env ?? process.env) });
  let bookkeeper: Bookkeeper | undefined;

  const init = (): Bookkeeper => {
    if (bookkeeper) return bookkeeper;
    const settings = readSettings(BOOKKEEPER.settings, options.env ?? process.env);
    if (!settings.tableName) throw new ConfigError('GATEHOUSE_TABLE_NAME', 'a DynamoDB table name');
    const doc = options.doc ?? createDocumentClient();
    const now = options.now ?? Date.now;
    bookkeeper = createBookkeeper({
      usage: new UsageStore(doc, settings.tableName),
      audit: new AuditStore(doc, settings.tableName, { retentionDays: settings.auditRetentionDays, now }),
      log,
      metrics,
      now,
    });
    return bookkeeper;
  };

  return async (event: CloudWatchLogsEvent): Promise<BatchOutcome> => {
    try {
      return await init().handle(decodeLogsEvent(event));
    } finally {
      metrics.flush();
    }
  };
}

export const handler = createBookkeeperHandler();
