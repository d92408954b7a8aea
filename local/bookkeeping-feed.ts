/**
 * The local stack's CloudWatch Logs subscription: it takes the authorizer's bookkeeping lines (the same lines the
 * Lambda writes to stdout) and hands them to the same bookkeeper code in batches, every {@link BATCH_INTERVAL_MS},
 * as CloudWatch Logs does. A batch that fails stays queued and is handed over again, unchanged (same event ids, so
 * the same batch id), at the next tick — CloudWatch Logs' retry. Closing drains what is queued.
 */
import type { BatchOutcome, Bookkeeper, LogLine } from '../lambdas/bookkeeper/bookkeeper.js';
import type { Log } from '../lambdas/core/log.js';
import { errorSummary } from '../lambdas/core/log.js';

export const BATCH_INTERVAL_MS = 200;
/** Lines per batch (CloudWatch Logs delivers up to 1 MB; a few thousand lines is the same order). */
const MAX_BATCH_LINES = 5_000;
/** Lines queued at most while the bookkeeper keeps failing; beyond, the oldest are dropped (and logged). */
const MAX_QUEUED_LINES = 200_000;

export interface BookkeepingFeed {
  /** The authorizer's LineWriter. Never throws. */
  readonly write: (text: string) => void;
  /** Hands over everything queued now and waits (tests, shutdown); resolves once the queue is empty or a batch failed. */
  drain(): Promise<void>;
  /** Drains, then stops the timer. */
  close(): Promise<void>;
}

export function createBookkeepingFeed(options: {
  readonly bookkeeper: Bookkeeper;
  readonly log: Log;
  readonly source?: string;
  readonly intervalMs?: number;
  /** After every batch (the local stack flushes the bookkeeper's metrics here). */
  readonly afterBatch?: (outcome: BatchOutcome | undefined) => void;
}): BookkeepingFeed {
  const source = options.source ?? 'local/gatehouse-authorizer';
  const queue: LogLine[] = [];
  let sequence = 0;
  let pending: LogLine[] | undefined;
  let running: Promise<void> | undefined;

  const runOnce = async (): Promise<boolean> => {
    const lines = (pending ??= queue.splice(0, MAX_BATCH_LINES));
    if (lines.length === 0) {
      pending = undefined;
      return false;
    }
    let outcome: BatchOutcome | undefined;
    try {
      outcome = await options.bookkeeper.handle({ source, lines });
      pending = undefined;
      return true;
    } catch (error) {
      options.log.error('bookkeeping batch failed; it will be retried', { lines: lines.length, error: errorSummary(error) });
      return false;
    } finally {
      options.afterBatch?.(outcome);
    }
  };

  const tick = (): Promise<void> => {
    running ??= (async () => {
      try {
        while (await runOnce());
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => void tick(), options.intervalMs ?? BATCH_INTERVAL_MS);
  timer.unref();

  return {
    write: (text) => {
      const timestamp = Date.now();
      for (const message of text.split('\n')) {
        if (message === '') continue;
        // CloudWatch Logs event ids are unique per event; a counter is, within this stack.
        queue.push({ id: String(++sequence).padStart(20, '0'), timestamp, message });
      }
      if (queue.length > MAX_QUEUED_LINES) {
        const dropped = queue.splice(0, queue.length - MAX_QUEUED_LINES).length;
        options.log.error('bookkeeping lines dropped: the bookkeeper keeps failing', { dropped });
      }
    },
    drain: async () => {
      await running;
      await tick();
    },
    close: async () => {
      await running;
      await tick();
      clearInterval(timer);
    },
  };
}
