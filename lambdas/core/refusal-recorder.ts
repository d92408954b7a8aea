/**
 * Turns the authorizer's refusals into audit events without letting a flood of bad requests become a flood of
 * writes — and without letting a flood of junk hide the refusals that matter.
 *
 * - Type: `credential.refused` (enforce mode, request denied) or `auth.anonymous` (audit mode, served as anonymous).
 * - Two kinds of refusal, never mixed:
 *   - **owned**: the credential named a STORED key (the store was read and the record found), so the refusal has a
 *     tenant — the key's owner, who must see attempts on its key: key id and source IPs, whatever else arrives;
 *   - **junk**: no tenant (unknown ids, malformed keys, bad tokens, missing credentials): kept under SYSTEM_TENANT.
 * - Identical refusals — same type, reason, keyId, source IP and tenant — within one window (default 60 s, from
 *   the first) are one event. The first is written at once (an isolated attempt is on record even if this
 *   container never runs again); when the window ends and more came, the same event's `count` detail is set to
 *   the total (one more write, no second event). So a burst costs at most two writes per window, whatever its size.
 * - Junk is bounded as a whole: at most `maxBuckets` open junk windows and `maxEventsPerWindow` new junk events per
 *   window per container; past either, junk collapses into one event per (type, reason) under SYSTEM_TENANT with
 *   `aggregated: true`. Junk only ever folds into junk: no volume of it touches an owned refusal.
 * - Owned refusals are bounded per tenant: at most `maxEventsPerTenantPerWindow` (default 20) new events per tenant
 *   per window, one per (type, reason, keyId, source IP). Past that, that tenant's refusals collapse into one event
 *   per (type, reason, keyId) UNDER THAT TENANT, with `aggregated: true`, the key id, `sourceIps` (the first
 *   {@link IP_SAMPLE} distinct addresses, space-separated) and `distinctSourceIps` (exact up to {@link IP_COUNT_CAP},
 *   with `moreSourceIps: true` beyond). So a tenant costs at most 2 × (budget + its refused keys × types × reasons)
 *   writes per window; a flood on one tenant's key never uses another tenant's budget.
 * - Memory: at most `maxBuckets` junk windows plus a handful of junk aggregates, and at most `maxOwnedBuckets`
 *   (default 5 000) owned windows, each holding at most {@link IP_COUNT_CAP} addresses. When the owned windows are
 *   full, the oldest is closed early (its count written now): the next refusal of that kind opens a new event, so
 *   attribution is kept and only the collapsing weakens. Per-tenant budgets are kept for at most `maxOwnedBuckets`
 *   tenants per window (the oldest forgotten first).
 * - Never throws into its caller and never makes it wait: writes run in the background and failures are logged.
 * - Durable checkpoints ({@link RefusalRecorder.checkpoint}): the bookkeeper (lambdas/bookkeeper) records a batch of
 *   refusal lines, then checkpoints: every open window whose count changed since its last write is written now, and
 *   any earlier write that failed (first writes, final counts of closed windows) is tried again. When a checkpoint
 *   reports no failure, everything recorded so far is in the table. A window spanning several batches therefore
 *   costs one write per batch that touched it, instead of two per window.
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
  /** Open junk windows (refusals with no tenant) kept in memory; default 1 000. */
  readonly maxBuckets?: number;
  /** New (non-collapsed) junk events per window per container; default 100. */
  readonly maxEventsPerWindow?: number;
  /** New (non-collapsed) events per tenant per window per container, for refusals that name a stored key; default 20. */
  readonly maxEventsPerTenantPerWindow?: number;
  /** Open windows of refusals that name a stored key, all tenants together; default 5 000. */
  readonly maxOwnedBuckets?: number;
  readonly now?: () => number;
}

type Details = Record<string, string | number | boolean>;

/** What the authorizer reports (its `RefusalEvent`, structurally: core code does not import the authorizer). */
export interface Refusal {
  readonly reason: string;
  readonly credentialKind: string;
  readonly keyId?: string;
  /** Owner of the stored key the credential named: present exactly when the store was read and found it. */
  readonly tenant?: string;
  readonly sourceIp?: string;
  /** The request's client certificate (mutual TLS): its serial number and subject, never the certificate. */
  readonly certificateSerial?: string;
  readonly certificateSubject?: string;
  readonly method: string;
  readonly path: string;
  readonly outcome: 'denied' | 'allowed_anonymous';
  /** When it happened (epoch ms): the event's time. Default: the recorder's clock (which always runs the windows). */
  readonly at?: number;
}

interface Bucket {
  readonly input: AuditEventInput & { readonly details: Details };
  readonly openedMs: number;
  count: number;
  /** The latest refusal's own time (its `at`, else the clock). */
  lastMs: number;
  /** The count the stored event holds (0 until the first write succeeds). */
  writtenCount: number;
  /** Owned aggregates only: the distinct source IPs seen, at most IP_COUNT_CAP, in arrival order. */
  readonly sourceIps?: Set<string>;
  moreSourceIps?: boolean;
  /** The latest write in this window's chain; resolves to the stored event, or undefined while none succeeded. */
  written: Promise<AuditEvent | undefined>;
}

interface TenantBudget {
  readonly windowStartMs: number;
  events: number;
}

/** Source IPs named in an owned aggregate's details. */
export const IP_SAMPLE = 10;
/** Distinct source IPs an owned aggregate counts exactly (and keeps in memory). */
export const IP_COUNT_CAP = 32;

const MAX_PATH_LENGTH = 256;
const MAX_TEXT_LENGTH = 128;

const clip = (value: string, max: number): string => (value.length > max ? `${value.slice(0, max)}…` : value);
const clean = (value: string, max = MAX_TEXT_LENGTH): string => clip(scrubString(value), max);

export class RefusalRecorder {
  /** Open windows of junk and of owned refusals; each map in time order (every window has the same length). */
  private readonly junk = new Map<string, Bucket>();
  private readonly owned = new Map<string, Bucket>();
  private readonly budgets = new Map<string, TenantBudget>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Closed windows whose final write failed: a checkpoint tries them again (oldest dropped past the bound). */
  private readonly unsettled = new Set<Bucket>();
  /** Writes that failed since the last checkpoint. */
  private failures = 0;
  private readonly sink: CountableAuditSink;
  private readonly log: Log;
  private readonly windowMs: number;
  private readonly maxBuckets: number;
  private readonly maxEventsPerWindow: number;
  private readonly maxEventsPerTenantPerWindow: number;
  private readonly maxOwnedBuckets: number;
  private readonly now: () => number;
  private rateWindowStartMs = -Infinity;
  private eventsThisWindow = 0;

  constructor(options: RefusalRecorderOptions) {
    this.sink = options.sink;
    this.log = options.log;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxBuckets = options.maxBuckets ?? 1_000;
    this.maxEventsPerWindow = options.maxEventsPerWindow ?? 100;
    this.maxEventsPerTenantPerWindow = options.maxEventsPerTenantPerWindow ?? 20;
    this.maxOwnedBuckets = Math.max(1, options.maxOwnedBuckets ?? 5_000);
    this.now = options.now ?? Date.now;
  }

  /** One refusal from the authorizer. Never throws, never waits. */
  record(refusal: Refusal): void {
    try {
      const now = this.now();
      this.sweep();
      const input = toAuditInput(refusal, refusal.at ?? now);
      if (refusal.tenant === undefined) this.recordJunk(input, now, refusal.at ?? now);
      else this.recordOwned(input, now, refusal.at ?? now);
    } catch (error) {
      this.log.error('refusal recording failed', { error: errorSummary(error) });
    }
  }

  /** Closes every window that has ended (writing final counts). Cheap when none has; never throws. */
  sweep(): void {
    try {
      const now = this.now();
      for (const buckets of [this.junk, this.owned]) {
        for (const [key, bucket] of buckets) {
          if (now - bucket.openedMs < this.windowMs) break;
          this.close(buckets, key, bucket);
        }
      }
      for (const [tenant, budget] of this.budgets) {
        if (now - budget.windowStartMs < this.windowMs) break;
        this.budgets.delete(tenant);
      }
    } catch (error) {
      this.log.error('refusal sweep failed', { error: errorSummary(error) });
    }
  }

  /** Closes every window now and waits for every write (shutdown, tests). */
  async flushAll(): Promise<void> {
    for (const buckets of [this.junk, this.owned]) for (const [key, bucket] of buckets) this.close(buckets, key, bucket);
    this.budgets.clear();
    await this.settle();
  }

  /**
   * Writes every open window whose count changed since its last write, retries every write that failed before,
   * and waits. Resolves to the number of writes that failed since the previous checkpoint (0: everything recorded
   * so far is stored). Never rejects.
   */
  async checkpoint(): Promise<number> {
    for (const bucket of this.unsettled) this.persist(bucket, true);
    for (const buckets of [this.junk, this.owned]) for (const bucket of buckets.values()) if (bucket.count !== bucket.writtenCount) this.persist(bucket, false);
    await this.settle();
    const failed = this.failures;
    this.failures = 0;
    return failed;
  }

  /** Open windows (tests, diagnostics). */
  get openWindows(): number {
    return this.junk.size + this.owned.size;
  }

  private recordJunk(input: Bucket['input'], now: number, atMs: number): void {
    const key = bucketKey(input);
    if (this.bump(this.junk.get(key), atMs)) return;
    if (now - this.rateWindowStartMs >= this.windowMs) {
      this.rateWindowStartMs = now;
      this.eventsThisWindow = 0;
    }
    if (this.junk.size < this.maxBuckets && this.eventsThisWindow < this.maxEventsPerWindow) {
      this.eventsThisWindow++;
      this.open(this.junk, key, input, now, atMs);
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
    // Aggregates may exceed maxBuckets: there is at most one per (type, reason), a small fixed vocabulary.
    if (!this.bump(this.junk.get(aggregateKey), atMs)) this.open(this.junk, aggregateKey, aggregate, now, atMs);
  }

  private recordOwned(input: Bucket['input'], now: number, atMs: number): void {
    const key = bucketKey(input);
    if (this.bump(this.owned.get(key), atMs)) return;
    const budget = this.budgetOf(input.tenant, now);
    if (budget.events < this.maxEventsPerTenantPerWindow) {
      budget.events++;
      this.openOwned(key, input, now, atMs);
      return;
    }
    // Over this tenant's budget: one aggregate per (type, reason, keyId) under the same tenant, with the key id
    // and a bounded sample of source IPs instead of one event per address.
    const { sourceIp, ...rest } = input;
    const aggregate: Bucket['input'] = { ...rest, details: { ...input.details, aggregated: true, count: 1 } };
    const aggregateKey = bucketKey(aggregate);
    const existing = this.owned.get(aggregateKey);
    if (this.bump(existing, atMs)) {
      if (sourceIp !== undefined) noteSourceIp(existing!, sourceIp);
      return;
    }
    const opened = this.openOwned(aggregateKey, aggregate, now, atMs, sourceIp);
    if (sourceIp !== undefined) noteSourceIp(opened, sourceIp);
  }

  /** Counts one more refusal into an open window; false when there is none. */
  private bump(bucket: Bucket | undefined, atMs: number): boolean {
    if (!bucket) return false;
    bucket.count++;
    bucket.lastMs = Math.max(bucket.lastMs, atMs);
    return true;
  }

  private budgetOf(tenant: string, now: number): TenantBudget {
    const current = this.budgets.get(tenant);
    if (current && now - current.windowStartMs < this.windowMs) return current;
    // Re-inserted so the map stays in window order (sweep stops at the first live one).
    this.budgets.delete(tenant);
    if (this.budgets.size >= this.maxOwnedBuckets) this.budgets.delete(this.budgets.keys().next().value!);
    const fresh: TenantBudget = { windowStartMs: now, events: 0 };
    this.budgets.set(tenant, fresh);
    return fresh;
  }

  /** Opens an owned window, first closing the oldest one early if memory is at its bound. */
  private openOwned(key: string, input: Bucket['input'], now: number, atMs: number, firstSourceIp?: string): Bucket {
    if (this.owned.size >= this.maxOwnedBuckets) {
      const [oldestKey, oldest] = this.owned.entries().next().value!;
      this.close(this.owned, oldestKey, oldest);
    }
    const withSample: Bucket['input'] =
      firstSourceIp === undefined || input.details.aggregated !== true
        ? input
        : { ...input, details: { ...input.details, sourceIps: firstSourceIp, distinctSourceIps: 1 } };
    return this.open(this.owned, key, withSample, now, atMs, input.details.aggregated === true);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  private open(buckets: Map<string, Bucket>, key: string, input: Bucket['input'], now: number, atMs: number, sampleIps = false): Bucket {
    const bucket: Bucket = {
      input,
      openedMs: now,
      count: 1,
      lastMs: atMs,
      writtenCount: 0,
      written: Promise.resolve(undefined),
      ...(sampleIps ? { sourceIps: new Set<string>() } : {}),
    };
    // The first refusal is on record at once: an isolated attempt is kept even if nothing else ever runs.
    bucket.written = this.track(
      this.sink.record(input).then(
        (event) => {
          bucket.writtenCount = Math.max(bucket.writtenCount, 1);
          return event;
        },
        (error: unknown) => {
          this.failures++;
          this.log.error('audit write failed', { type: input.type, reason: input.reason, error: errorSummary(error) });
          return undefined;
        },
      ),
    );
    buckets.set(key, bucket);
    return bucket;
  }

  private close(buckets: Map<string, Bucket>, key: string, bucket: Bucket): void {
    buckets.delete(key);
    this.persist(bucket, true);
  }

  /**
   * Writes the window's current count after whatever write of it is under way (one chain per window, so a later
   * count is never overwritten by an earlier one). Closed windows whose write fails wait in `unsettled`.
   */
  private persist(bucket: Bucket, closed: boolean): void {
    const count = bucket.count;
    const details: Details = { ...bucket.input.details, ...ipDetails(bucket), count, lastAt: new Date(bucket.lastMs).toISOString() };
    if (closed) this.unsettle(bucket);
    bucket.written = this.track(
      bucket.written.then(async (event) => {
        if (event && bucket.writtenCount >= count) {
          if (closed) this.unsettled.delete(bucket);
          return event;
        }
        try {
          // No event yet (the first write failed): this one carries the whole burst instead.
          let stored = event;
          if (!stored || !(await this.sink.updateDetails(stored, details))) stored = await this.sink.record({ ...bucket.input, details });
          bucket.writtenCount = Math.max(bucket.writtenCount, count);
          if (closed) this.unsettled.delete(bucket);
          return stored;
        } catch (error) {
          this.failures++;
          this.log.error('audit write failed', { type: bucket.input.type, reason: bucket.input.reason, count, error: errorSummary(error) });
          return event;
        }
      }),
    );
  }

  private unsettle(bucket: Bucket): void {
    this.unsettled.add(bucket);
    if (this.unsettled.size > this.maxBuckets + this.maxOwnedBuckets) {
      const oldest = this.unsettled.values().next().value!;
      this.unsettled.delete(oldest);
      this.log.error('audit write abandoned after repeated failures', { type: oldest.input.type, reason: oldest.input.reason, count: oldest.count });
    }
  }

  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

function noteSourceIp(bucket: Bucket, sourceIp: string): void {
  const ips = bucket.sourceIps;
  if (!ips || ips.has(sourceIp)) return;
  if (ips.size < IP_COUNT_CAP) ips.add(sourceIp);
  else bucket.moreSourceIps = true;
}

/** The source-IP details of an owned aggregate (nothing for other windows). */
function ipDetails(bucket: Bucket): Details {
  const ips = bucket.sourceIps;
  if (!ips || ips.size === 0) return {};
  return {
    sourceIps: [...ips].slice(0, IP_SAMPLE).join(' '),
    distinctSourceIps: ips.size,
    ...(bucket.moreSourceIps ? { moreSourceIps: true } : {}),
  };
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
      ...(refusal.certificateSerial === undefined ? {} : { certificateSerial: clean(refusal.certificateSerial, 40) }),
      ...(refusal.certificateSubject === undefined ? {} : { certificateSubject: clean(refusal.certificateSubject, 256) }),
      count: 1,
    },
  };
}

function bucketKey(input: AuditEventInput): string {
  // One certificate's refusals are one event; another certificate's are another (each names its serial).
  return JSON.stringify([input.type, input.reason ?? null, input.keyId ?? null, input.sourceIp ?? null, input.tenant, input.details?.aggregated ?? false, input.details?.certificateSerial ?? null]);
}
