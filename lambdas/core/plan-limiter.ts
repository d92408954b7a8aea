/**
 * Enforces a principal's plan in one container (docs/plans.md): the rate with a token bucket in memory, the quota with
 * blocks of units leased from the store (quota-store.ts). Checked after the credential, before the handler.
 *
 * Bounds, as documented:
 * - Quota: never more than the plan's limit per period across all containers (the store hands out no more units than
 *   that); a key may be refused up to (containers − 1) × block units early, where a block is 1 % of the quota (at least
 *   1, at most {@link MAX_LEASE_BLOCK}). One store write per block; none on other requests.
 * - Rate: per container. With C warm containers a credential may get up to C × rate (and C × burst at once). WAF's
 *   per-credential rule bounds the total whatever C is.
 * - A refused request spends nothing: a rate refusal takes no quota unit.
 *
 * State is bounded ({@link MAX_SUBJECTS} subjects each for buckets and leases, oldest dropped first): a dropped
 * bucket starts full again and a dropped lease's units stay unspent (counted in the early-refusal bound).
 */
import { burstOf, hasLimits, periodWindow, type Plan, type PeriodWindow } from './plans.js';
import type { QuotaLeases } from './quota-store.js';

export const MAX_LEASE_BLOCK = 1000;
export const MAX_SUBJECTS = 10_000;

/** Units a container leases at a time for a quota of `limit`: 1 % of it, at least 1, at most {@link MAX_LEASE_BLOCK}. */
export const leaseBlock = (limit: number): number => Math.min(MAX_LEASE_BLOCK, Math.max(1, Math.ceil(limit / 100)));

/** The quota as the caller may be told: this container's view (its unspent block counts as remaining). */
export interface QuotaState {
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the period resets. */
  readonly resetSeconds: number;
  readonly window: PeriodWindow;
}

/** Which limit refused a request: the authorizer's context value `limit`, which the plan-limit 429 reads. */
export type PlanLimit = 'rate' | 'quota';

export type LimitDecision =
  | { readonly allowed: true; readonly plan: Plan; readonly quota?: QuotaState }
  | { readonly allowed: false; readonly plan: Plan; readonly limit: PlanLimit; readonly retryAfterSeconds: number; readonly quota?: QuotaState };

interface Bucket {
  tokens: number;
  atMs: number;
}

interface LeaseState {
  periodId: string;
  /** Units leased here and not yet spent. */
  left: number;
  /** Units handed out across all containers, as of this container's last lease. */
  total: number;
  /** The limit the state was built under: a plan change (another limit) clears a known exhaustion. */
  limit: number;
  exhausted: boolean;
}

/** A Map used as a bounded, least-recently-set cache. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_SUBJECTS) map.delete(map.keys().next().value as string);
}

export interface PlanLimiterOptions {
  readonly leases: QuotaLeases;
  readonly now?: () => number;
}

export class PlanLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly leases = new Map<string, LeaseState>();
  private readonly now: () => number;

  constructor(private readonly options: PlanLimiterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether `subject` may make one more request on `plan` now; spends the request when it may. */
  async check(subject: string, plan: Plan): Promise<LimitDecision> {
    if (!hasLimits(plan)) return { allowed: true, plan };
    const nowMs = this.now();
    if (plan.rate !== undefined) {
      const wait = this.rateWait(subject, plan, nowMs);
      if (wait > 0) return { allowed: false, plan, limit: 'rate', retryAfterSeconds: wait, ...this.quotaView(subject, plan, nowMs) };
    }
    if (plan.quota === undefined) {
      this.spendRate(subject);
      return { allowed: true, plan };
    }
    const window = periodWindow(plan.quota.period, nowMs);
    const limit = plan.quota.limit;
    let state = this.leases.get(subject);
    if (!state || state.periodId !== window.id || state.limit !== limit) {
      state = { periodId: window.id, left: state?.periodId === window.id ? state.left : 0, total: state?.periodId === window.id ? state.total : 0, limit, exhausted: false };
      remember(this.leases, subject, state);
    }
    if (state.left === 0 && !state.exhausted) {
      const lease = await this.options.leases.lease(subject, window, limit, leaseBlock(limit));
      // Another request of this subject may have leased meanwhile (both awaited): units add up, nothing is lost.
      state.left += lease.granted;
      state.total = Math.max(state.total, lease.total);
      if (lease.granted === 0 && state.left === 0) state.exhausted = true;
    }
    const resetSeconds = Math.max(1, Math.ceil((window.endMs - nowMs) / 1000));
    if (state.left === 0) {
      return { allowed: false, plan, limit: 'quota', retryAfterSeconds: resetSeconds, quota: { limit, remaining: 0, resetSeconds, window } };
    }
    state.left -= 1;
    this.spendRate(subject);
    return { allowed: true, plan, quota: { limit, remaining: Math.max(0, limit - state.total + state.left), resetSeconds, window } };
  }

  /** Seconds until the bucket holds a token (0: it holds one now). Refills the bucket to `nowMs`. */
  private rateWait(subject: string, plan: Plan, nowMs: number): number {
    const rate = plan.rate!;
    const capacity = burstOf(plan);
    const bucket = this.buckets.get(subject) ?? { tokens: capacity, atMs: nowMs };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * rate);
    bucket.atMs = nowMs;
    remember(this.buckets, subject, bucket);
    return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }

  private spendRate(subject: string): void {
    const bucket = this.buckets.get(subject);
    if (bucket) bucket.tokens -= 1;
  }

  private quotaView(subject: string, plan: Plan, nowMs: number): { quota?: QuotaState } {
    const state = this.leases.get(subject);
    if (!plan.quota || !state) return {};
    const window = periodWindow(plan.quota.period, nowMs);
    if (state.periodId !== window.id) return {};
    const resetSeconds = Math.max(1, Math.ceil((window.endMs - nowMs) / 1000));
    return { quota: { limit: plan.quota.limit, remaining: Math.max(0, plan.quota.limit - state.total + state.left), resetSeconds, window } };
  }
}
