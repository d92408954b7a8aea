/**
 * What a plan decision tells the rest of the request, through the authorizer's context (scalars only):
 * - `plan`: the plan's name;
 * - `rateLimitPolicy` / `rateLimit`: the values of the `RateLimit-Policy` and `RateLimit` response fields of
 *   draft-ietf-httpapi-ratelimit-headers-09 (March 2025), which handlers copy onto successful responses
 *   ({@link rateLimitHeadersFromContext}); empty when the plan limits nothing;
 * - on a refusal, `limit` (rate | quota), `retryAfter` (seconds) and `quotaResetsAt` (ISO instant), which the
 *   THROTTLED gateway response reads (gateway-responses.ts).
 *
 * `RateLimit` reports the quota only: it is the one limit with a deployment-wide count. The rate is per container
 * (plan-limiter.ts), so its remaining tokens would mislead; the policy still names it.
 */
import type { LimitDecision } from './plan-limiter.js';
import type { Plan } from './plans.js';

export const RATE_LIMIT_POLICY_HEADER = 'RateLimit-Policy';
export const RATE_LIMIT_HEADER = 'RateLimit';

/** The policy entries of a plan: `"quota";q=<limit>;w=<period seconds>` and `"rate";q=…;w=…`. */
export function rateLimitPolicy(plan: Plan, quotaWindowSeconds?: number): string {
  const entries: string[] = [];
  if (plan.quota) entries.push(`"quota";q=${plan.quota.limit};w=${quotaWindowSeconds ?? (plan.quota.period === 'day' ? 86_400 : 31 * 86_400)}`);
  if (plan.rate !== undefined) {
    // q is an integer: a fractional rate (0.5/s) is one request per ⌈1/rate⌉ seconds.
    entries.push(Number.isInteger(plan.rate) ? `"rate";q=${plan.rate};w=1` : `"rate";q=1;w=${Math.ceil(1 / plan.rate)}`);
  }
  return entries.join(', ');
}

export type PlanContext = Record<string, string>;

export function planContext(decision: LimitDecision): PlanContext {
  const quota = decision.quota;
  const windowSeconds = quota ? Math.round((quota.window.endMs - quota.window.startMs) / 1000) : undefined;
  const context: PlanContext = {
    plan: decision.plan.name,
    rateLimitPolicy: rateLimitPolicy(decision.plan, windowSeconds),
    rateLimit: quota ? `"quota";r=${quota.remaining};t=${quota.resetSeconds}` : '',
  };
  if (!decision.allowed) {
    context.limit = decision.limit;
    context.retryAfter = String(decision.retryAfterSeconds);
    context.quotaResetsAt = quota ? new Date(quota.window.endMs).toISOString() : '';
  }
  return context;
}

/** The RateLimit fields a handler adds to its response, from the authorizer's context (none when empty or absent). */
export function rateLimitHeadersFromContext(context: Record<string, unknown> | null | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  const policy = context?.rateLimitPolicy;
  const state = context?.rateLimit;
  // Only what the authorizer could have written: printable ASCII, bounded (a header must never carry a line break).
  const safe = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 256 && /^[\x20-\x7E]+$/.test(v);
  if (safe(policy)) headers[RATE_LIMIT_POLICY_HEADER] = policy;
  if (safe(state)) headers[RATE_LIMIT_HEADER] = state;
  return headers;
}
