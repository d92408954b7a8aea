/**
 * Turns the authorizer's refusals into audit events without letting a flood of bad requests become a flood of
 * writes.
 *
 * - Type: `credential.refused` (enforce mode, request denied) or `auth.anonymous` (audit mode, served as anonymous).
 *   Tenant: the owner of the key the credential named when the store was read, else {@link SYSTEM_TENANT}.
 * - Identical refusals — same type, reason, keyId, source IP and tenant — within one window (default 60 s, from
 *   the first) are one event. The first is written at once (an isolated attempt is on record even if this
 *   container never runs again); when the window ends and more came, the same event's `count` detail is set to
 *   the total (one more write, no second event). So a burst costs at most two writes per window, whatever its size.
 * - Bounded: at most `maxBuckets` open windows, and at most `maxEventsPerWindow` new events per window per
 *   container. Past either limit, refusals are collapsed into one event per (type, reason) under SYSTEM_TENANT
 *   with `aggregated: true` — a spray of distinct key ids from many addresses stays a handful of writes.
 * - Never throws into the authorizer and never makes it wait: writes run in the background and failures are logged.
 * - Never stores a credential: the refusal carries none by design, the path is scrubbed and truncated, a keyId
 *   is kept only if it has the public id's shape, and the audit store redacts again before writing.
 */
import { isKeyId } from './api-key.js';
import { SYSTEM_TENANT, type AuditEvent, type AuditEventInput, type AuditEventType } from './audit.js';
import { errorSummary, type Log } from './log.js';
import { scrubString } from './redact.js';

export interface CountableAuditSink {
  record(event: AuditEventInput): Promise<AuditEvent>;
  /** Replaces the details of a written event; false when it no longer exists. */
  updateDetails(event: Pick<AuditEvent, 'tenant' | 'at' | 'id'>, details: NonNullable<AuditEventInput['details']>): Promise<boolean>;
}

export interface RefusalRecorderOptions {
  readonly sink: CountableAuditSink;
  readonly log: Log;
  /** Default 60 000. */
  readonly windowMs?: number;
  /** Open windows kept in memory; default 1 000. */
  readonly maxBuckets?: number;
  /** New (non-collapsed) events per window per container; default 100. */
  readonly maxEventsPerWindow?: number;
  readonly now?: () => number;
}

type Details = Record<string, string | number | boolean>;

/** What the authorizer reports (its `RefusalEvent`, structurally: core code does not import the authorizer). */
export interface Refusal {
  readonly reason: string;
  readonly credentialKind: string;
  readonly keyId?: string;
  readonly tenant?: string;
  readonly sourceIp?: string;
  readonly method: string;
  readonly path: string;
  readonly outcome: 'denied' | 'allowed_anonymous';
}

interface Bucket {
  readonly input: AuditEventInput & { readonly details: Details };
  readonly openedMs: number;
  count: number;
  lastMs: number;
  /** The first write; resolves to the stored event, or undefined if it failed. */
  readonly written: Promise<AuditEvent | undefined>;
}

const MAX_PATH_LENGTH = 256;
const MAX_TEXT_LENGTH = 128;

const clip = (value: string, max: number): string => (value.length > max ? `${value.slice(0, max)}…` : value);
const clean = (value: string, max = MAX_TEXT_LENGTH): string => clip(scrubString(value), max);

export class RefusalRecorder {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly sink: CountableAuditSink;
  private readonly log: Log;
  private readonly windowMs: number;
  private readonly maxBuckets: number;
  private readonly maxEventsPerWindow: number;
  private readonly now: () => number;
  private rateWindowStartMs = -Infinity;
  private eventsThisWindow = 0;

  constructor(options: RefusalRecorderOptions) {
    this.sink = options.sink;
    this.log = options.log;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxBuckets = options.maxBuckets ?? 1_000;
    this.maxEventsPerWindow = options.maxEventsPerWindow ?? 100;
    this.now = options.now ?? Date.now;
  }

  /** One refusal from the authorizer. Never throws, never waits. */
  record(refusal: Refusal): void {
    try {
      const now = this.now();
      this.sweep();
      const input = toAuditInput(refusal, now);
      const key = bucketKey(input);
      const existing = this.buckets.get(key);
      if (existing) {
        existing.count++;
        existing.lastMs = now;
        return;
      }
      if (now - this.rateWindowStartMs >= this.windowMs) {
        this.rateWindowStartMs = now;
        this.eventsThisWindow = 0;
      }
      if (this.buckets.size < this.maxBuckets && this.eventsThisWindow < this.maxEventsPerWindow) {
        this.eventsThisWindow++;
        this.open(key, input, now);
        return;
      }
      // Over a limit: one aggregate per (type, reason), without the per-source fields.
      const aggregate: Bucket['input'] = {
        type: input.type,
        tenant: SYSTEM_TENANT,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        at: input.at!,
        details: { aggregated: true, count: 1 },
      };
      const aggregateKey = bucketKey(aggregate);
      const bucket = this.buckets.get(aggregateKey);
      if (bucket) {
        bucket.count++;
        bucket.lastMs = now;
      } else {
        // Aggregates may exceed maxBuckets: there is at most one per (type, reason), a small fixed vocabulary.
        this.open(aggregateKey, aggregate, now);
      }
    } catch (error) {
      this.log.error('refusal recording failed', { error: errorSummary(error) });
    }
  }

  /** Closes every window that has ended (writing final counts). Cheap when none has; never throws. */
  sweep(): void {
    try {
      const now = this.now();
      // Buckets are inserted in time order and every window has the same length, so the expired ones come first.
      for (const [key, bucket] of this.buckets) {
        if (now - bucket.openedMs < this.windowMs) break;
        this.close(key, bucket);
      }
    } catch (error) {
      this.log.error('refusal sweep failed', { error: errorSummary(error) });
    }
  }

  /** Closes every window now and waits for every write (shutdown, tests). */
  async flushAll(): Promise<void> {
    for (const [key, bucket] of this.buckets) this.close(key, bucket);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Open windows (tests, diagnostics). */
  get openWindows(): number {
    return this.buckets.size;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  private open(key: string, input: Bucket['input'], now: number): void {
    const written = this.track(
      this.sink.record(input).then(
        (event) => event,
        (error: unknown) => {
          this.log.error('audit write failed', { type: input.type, reason: input.reason, error: errorSummary(error) });
          return undefined;
        },
      ),
    );
    this.buckets.set(key, { input, openedMs: now, count: 1, lastMs: now, written });
  }

  private close(key: string, bucket: Bucket): void {
    this.buckets.delete(key);
    const count = bucket.count;
    const details: Details = { ...bucket.input.details, count, lastAt: new Date(bucket.lastMs).toISOString() };
    const final = bucket.written.then(async (event) => {
      if (event && count === 1) return;
      try {
        // The first write failed: this one carries the whole burst instead.
        if (!event) await this.sink.record({ ...bucket.input, details });
        else if (!(await this.sink.updateDetails(event, details))) await this.sink.record({ ...bucket.input, details });
      } catch (error) {
        this.log.error('audit write failed', { type: bucket.input.type, reason: bucket.input.reason, count, error: errorSummary(error) });
      }
    });
    void this.track(final);
  }
}

function toAuditInput(refusal: Refusal, now: number): Bucket['input'] {
  const type: AuditEventType = refusal.outcome === 'allowed_anonymous' ? 'auth.anonymous' : 'credential.refused';
  const keyId = refusal.keyId !== undefined && isKeyId(refusal.keyId) ? refusal.keyId : undefined;
  return {
    type,
    tenant: refusal.tenant ?? SYSTEM_TENANT,
    reason: clean(refusal.reason),
    ...(keyId === undefined ? {} : { keyId }),
    ...(refusal.sourceIp === undefined ? {} : { sourceIp: clean(refusal.sourceIp, 64) }),
    at: new Date(now).toISOString(),
    details: {
      method: clean(refusal.method, 16),
      path: clean(refusal.path, MAX_PATH_LENGTH),
      credentialKind: refusal.credentialKind,
      count: 1,
    },
  };
}

function bucketKey(input: AuditEventInput): string {
  return JSON.stringify([input.type, input.reason ?? null, input.keyId ?? null, input.sourceIp ?? null, input.tenant, input.details?.aggregated ?? false]);
}

