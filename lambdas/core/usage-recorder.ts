/**
 * Counts API-key requests in memory and writes them to the usage store at most once per `flushIntervalMs` per key
 * per container, so the authorizer's hot path never waits for a write and a busy key costs one UpdateItem a minute.
 *
 * - `record` never throws and never awaits: a due flush is started and left running (fire-and-forget); its
 *   failure is logged and its counts go back into the pending total, to be written with the next flush.
 * - Keys that go quiet are still written: every `record` (and `sweep`, which the authorizer handler calls on
 *   every invocation) also flushes any other key whose interval has passed.
 * - Memory is bounded: at most `maxKeys` keys are tracked; the least recently used one is flushed and dropped.
 * - A container that is never invoked again keeps its last interval's counts (Lambda gives no reliable shutdown
 *   hook without an extension): usage is accurate to within one interval per container, not exact.
 */
import { errorSummary, type Log } from './log.js';

export interface UsageSink {
  add(keyId: string, tenant: string, count: number, lastUsedAt: string): Promise<void>;
}

export interface UsageRecorderOptions {
  readonly store: UsageSink;
  readonly log: Log;
  /** Default 60 000. */
  readonly flushIntervalMs?: number;
  /** Default 10 000. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly keyId: string;
  readonly tenant: string;
  pending: number;
  lastUsedMs: number;
  /** When this key was last written (−∞: never, so its first use is written at once). */
  lastFlushMs: number;
}

export class UsageRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly store: UsageSink;
  private readonly log: Log;
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private nextSweepMs = -Infinity;

  constructor(options: UsageRecorderOptions) {
    this.store = options.store;
    this.log = options.log;
    this.intervalMs = options.flushIntervalMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** One allowed request of `keyId` (owned by `tenant`). Never throws, never waits. */
  record(keyId: string, tenant: string): void {
    try {
      const now = this.now();
      const id = `${tenant}\u0000${keyId}`;
      let entry = this.entries.get(id);
      if (entry) {
        this.entries.delete(id); // re-insert: Map order is then least recently used first
      } else {
        entry = { keyId, tenant, pending: 0, lastUsedMs: now, lastFlushMs: -Infinity };
        if (this.entries.size >= this.maxKeys) this.evictOldest();
      }
      this.entries.set(id, entry);
      entry.pending++;
      entry.lastUsedMs = Math.max(entry.lastUsedMs, now);
      if (now - entry.lastFlushMs >= this.intervalMs) this.flush(entry, now);
      this.sweep();
    } catch (error) {
      this.log.error('usage recording failed', { error: errorSummary(error) });
    }
  }

  /** Writes every key whose interval has passed. Cheap when nothing is due; never throws. */
  sweep(): void {
    try {
      const now = this.now();
      if (now < this.nextSweepMs) return;
      this.nextSweepMs = now + Math.min(this.intervalMs, 10_000);
      for (const entry of this.entries.values()) {
        if (entry.pending > 0 && now - entry.lastFlushMs >= this.intervalMs) this.flush(entry, now);
      }
    } catch (error) {
      this.log.error('usage sweep failed', { error: errorSummary(error) });
    }
  }

  /** Writes everything pending regardless of the interval and waits for every write (shutdown, tests). */
  async flushAll(): Promise<void> {
    const now = this.now();
    for (const entry of this.entries.values()) if (entry.pending > 0) this.flush(entry, now);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Requests counted but not yet handed to the store (tests, diagnostics). */
  get pendingRequests(): number {
    let n = 0;
    for (const entry of this.entries.values()) n += entry.pending;
    return n;
  }

  private evictOldest(): void {
    const oldest = this.entries.entries().next();
    if (oldest.done) return;
    const [id, entry] = oldest.value;
    this.entries.delete(id);
    if (entry.pending > 0) this.flush(entry, this.now());
  }

  private flush(entry: Entry, now: number): void {
    const count = entry.pending;
    const lastUsedAt = new Date(entry.lastUsedMs).toISOString();
    entry.pending = 0;
    entry.lastFlushMs = now;
    if (count === 0) return;
    const write = (async () => {
      try {
        await this.store.add(entry.keyId, entry.tenant, count, lastUsedAt);
      } catch (error) {
        // Put the counts back: the next flush of this key carries them (a write that failed ambiguously may
        // then be counted twice, which is the better error for usage than losing it).
        entry.pending += count;
        this.log.error('usage flush failed', { keyId: entry.keyId, requests: count, error: errorSummary(error) });
        if (!this.entries.has(`${entry.tenant}\u0000${entry.keyId}`)) {
          this.log.warn('usage dropped for an evicted key', { keyId: entry.keyId, requests: entry.pending });
        }
      }
    })();
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
  }
}

