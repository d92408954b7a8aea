/**
 * The bookkeeper: stores the authorizer's bookkeeping lines (core/bookkeeping-channel.ts), one batch at a time as
 * CloudWatch Logs delivers them (or as the local stack feeds them).
 *
 * - **Usage**: the batch is summed per key; one `ADD` per key per batch (usage-store.ts), with the batch id, so a
 *   retried batch is not counted twice for a key (see UsageStore for the bound).
 * - **Refusals**: the same RefusalRecorder the authorizer used to run in-process, now kept warm in the bookkeeper's
 *   container: identical refusals collapse into one event per window, junk is bounded as a whole, refusals that name
 *   a stored key reach that key's tenant with the key id and source IPs within a per-tenant budget (finding 11.4).
 *   Its windows and budgets are per bookkeeper container (formerly per authorizer container). After recording a
 *   batch the bookkeeper checkpoints the recorder, so every refusal of the batch is stored before it answers.
 * - **Failure**: any write that fails makes the batch fail (BookkeepingError), so CloudWatch Logs / Lambda retries it.
 *   Usage is then exact (batch ids). A retried batch's refusals are not recorded again by the container that counted
 *   them (it remembers the last {@link COUNTED_BATCHES} batch ids and only retries the writes); a retry that lands in
 *   another container records them once more: at most one extra count per refusal line per retry.
 * - Lines are trusted only as far as their checks go (parseBookkeepingLine): anything else is counted and ignored.
 */
import { createHash } from 'node:crypto';
import { parseBookkeepingLine, type RefusalRecord } from '../core/bookkeeping-channel.js';
import { errorSummary, type Log } from '../core/log.js';
import { NO_METRICS, type MetricsSink } from '../core/metrics.js';
import { RefusalRecorder, type CountableAuditSink, type RefusalRecorderOptions } from '../core/refusal-recorder.js';
import type { UsageAddResult } from '../core/usage-store.js';

/** One log event: CloudWatch Logs' id (unique per event), its time, and the line. */
export interface LogLine {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

/** What one invocation handles: the lines of one log stream (CloudWatch Logs batches per stream). */
export interface BookkeepingBatch {
  /** `<logGroup>/<logStream>`. */
  readonly source: string;
  readonly lines: readonly LogLine[];
}

export interface UsageWriter {
  add(keyId: string, tenant: string, count: number, lastUsedAt: string, batchId?: string): Promise<UsageAddResult>;
}

export interface BookkeeperDeps {
  readonly usage: UsageWriter;
  readonly audit: CountableAuditSink;
  readonly log: Log;
  readonly metrics?: MetricsSink;
  /** The clock of the refusal windows (events keep their own times). */
  readonly now?: () => number;
  /** Refusal windows and budgets (defaults as RefusalRecorder's). */
  readonly refusals?: Omit<RefusalRecorderOptions, 'sink' | 'log' | 'now'>;
  /** Usage writes in flight at once (default 16). */
  readonly writeConcurrency?: number;
}

export interface BatchOutcome {
  readonly batchId: string;
  readonly usageLines: number;
  readonly refusalLines: number;
  /** Keys written (one ADD each). */
  readonly usageKeys: number;
  /** Keys whose ADD found the batch already counted (a retry). */
  readonly duplicateKeys: number;
  /** Lines that were not well-formed bookkeeping lines. */
  readonly ignoredLines: number;
  /** This container had recorded the batch's refusals before (a retry): only failed writes were retried. */
  readonly repeated: boolean;
}

export class BookkeepingError extends Error {
  constructor(
    readonly batchId: string,
    readonly failures: { readonly usage: number; readonly refusal: number },
  ) {
    super(`bookkeeping batch ${batchId} failed: ${failures.usage} usage and ${failures.refusal} refusal writes failed; the batch will be retried`);
    this.name = 'BookkeepingError';
  }
}

/** Batch ids whose refusals a container remembers having recorded. */
export const COUNTED_BATCHES = 1000;

/**
 * A batch's id: the time of its first event (base-36 seconds, which orders the usage items' id sets) and a hash of
 * its source and event ids. A redelivered batch (same events) has the same id.
 */
export function batchIdOf(batch: BookkeepingBatch): string {
  const hash = createHash('sha256').update(batch.source);
  let first = Infinity;
  for (const line of batch.lines) {
    hash.update('\u0000').update(line.id);
    if (line.timestamp < first) first = line.timestamp;
  }
  const seconds = Number.isFinite(first) && first > 0 ? Math.floor(first / 1000) : 0;
  return `${seconds.toString(36)}.${hash.digest('base64url').slice(0, 12)}`;
}

interface KeyUsage {
  readonly keyId: string;
  readonly tenant: string;
  count: number;
  lastAt: number;
}

async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export interface Bookkeeper {
  /** Stores one batch; rejects with BookkeepingError when any write failed (retry the same batch). */
  handle(batch: BookkeepingBatch): Promise<BatchOutcome>;
  /** The warm refusal recorder (diagnostics, tests). */
  readonly refusals: RefusalRecorder;
}

export function createBookkeeper(deps: BookkeeperDeps): Bookkeeper {
  const metrics = deps.metrics ?? NO_METRICS;
  const refusals = new RefusalRecorder({ ...deps.refusals, sink: deps.audit, log: deps.log, ...(deps.now ? { now: deps.now } : {}) });
  const counted = new Set<string>();
  const concurrency = Math.max(1, deps.writeConcurrency ?? 16);

  const remember = (batchId: string): void => {
    counted.add(batchId);
    if (counted.size > COUNTED_BATCHES) counted.delete(counted.values().next().value!);
  };

  return {
    refusals,
    async handle(batch) {
      const batchId = batchIdOf(batch);
      const usage = new Map<string, KeyUsage>();
      const refused: RefusalRecord[] = [];
      let usageLines = 0;
      let ignoredLines = 0;
      for (const line of batch.lines) {
        const record = parseBookkeepingLine(line.message);
        if (record === undefined) {
          ignoredLines++;
        } else if (record.kind === 'usage') {
          usageLines++;
          const id = `${record.tenant}\u0000${record.keyId}`;
          const entry = usage.get(id);
          if (entry) {
            entry.count++;
            entry.lastAt = Math.max(entry.lastAt, record.at);
          } else {
            usage.set(id, { keyId: record.keyId, tenant: record.tenant, count: 1, lastAt: record.at });
          }
        } else {
          refused.push(record);
        }
      }
      // Never the lines themselves: a malformed one may hold anything.
      if (ignoredLines > 0) deps.log.warn('bookkeeping lines ignored', { batchId, ignored: ignoredLines });

      const repeated = counted.has(batchId);
      if (!repeated) {
        for (const r of refused) refusals.record(r);
        remember(batchId);
      }
      refusals.sweep();

      let usageFailures = 0;
      let duplicateKeys = 0;
      let usageStored = 0;
      const [refusalFailures] = await Promise.all([
        refusals.checkpoint(),
        inPool([...usage.values()], concurrency, async (entry) => {
          try {
            const result = await deps.usage.add(entry.keyId, entry.tenant, entry.count, new Date(entry.lastAt).toISOString(), batchId);
            if (result === 'duplicate') duplicateKeys++;
            usageStored += entry.count;
          } catch (error) {
            usageFailures++;
            deps.log.error('usage write failed', { batchId, keyId: entry.keyId, requests: entry.count, error: errorSummary(error) });
          }
        }),
      ]);

      if (usageStored > 0) metrics.add('BookkeepingRecords', usageStored, { kind: 'usage' });
      if (refused.length > 0 && refusalFailures === 0) metrics.add('BookkeepingRecords', refused.length, { kind: 'refusal' });
      if (usageFailures > 0) metrics.add('BookkeepingFailures', usageFailures, { kind: 'usage' });
      if (refusalFailures > 0) metrics.add('BookkeepingFailures', refusalFailures, { kind: 'refusal' });
      if (usageFailures > 0 || refusalFailures > 0) throw new BookkeepingError(batchId, { usage: usageFailures, refusal: refusalFailures });

      return { batchId, usageLines, refusalLines: refused.length, usageKeys: usage.size, duplicateKeys, ignoredLines, repeated };
    },
  };
}
