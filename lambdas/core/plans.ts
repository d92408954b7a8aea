/**
 * Plans: named sets of limits a credential carries (docs/plans.md). Pure: what a plan is, which plan a principal is
 * on, whether one plan is within another, and the quota period an instant falls in. Enforcement is plan-limiter.ts.
 *
 * A plan has, each optional: a rate (requests per second, refilled continuously) with a burst (the bucket's size), and
 * a quota (requests per UTC day or UTC calendar month). A plan with neither costs nothing to enforce.
 */
import { createHash } from 'node:crypto';

export type QuotaPeriod = 'day' | 'month';

export interface PlanLimits {
  /** Sustained requests per second. */
  readonly rate?: number;
  /** Requests allowed at once above the rate (the bucket's size); default: the rate, at least 1. */
  readonly burst?: number;
  readonly quota?: { readonly limit: number; readonly period: QuotaPeriod };
}

export interface Plan extends PlanLimits {
  readonly name: string;
}

/** Which plan tokens are on, by client id first, then by the first listed group the token's person is in. */
export interface TokenPlans {
  readonly clientIds: Readonly<Record<string, string>>;
  /** In order: the first group the person is in decides. */
  readonly groups: readonly { readonly group: string; readonly plan: string }[];
}

/** Always defined, whatever the configuration says: no limits, and every plan is within it. */
export const UNLIMITED_PLAN = 'unlimited';

export interface PlanConfig {
  readonly plans: Readonly<Record<string, PlanLimits>>;
  /** The plan of a key created without one, and of tokens no mapping names. */
  readonly defaultPlan: string;
  /** The bootstrap admin key's plan. */
  readonly adminPlan: string;
  readonly tokens: TokenPlans;
}

export const DEFAULT_PLAN_CONFIG: PlanConfig = {
  plans: {},
  defaultPlan: UNLIMITED_PLAN,
  adminPlan: UNLIMITED_PLAN,
  tokens: { clientIds: {}, groups: [] },
};

/** A plan name: what a URL, a header parameter and a DynamoDB attribute all carry without escaping. */
export const PLAN_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const isPlanName = (name: string): boolean => PLAN_NAME_PATTERN.test(name);

/** The deployment's plans, checked once (settings.ts refuses a config naming a plan it does not define). */
export class PlanCatalog {
  private readonly byName: ReadonlyMap<string, Plan>;

  constructor(readonly config: PlanConfig = DEFAULT_PLAN_CONFIG) {
    const plans = new Map<string, Plan>([[UNLIMITED_PLAN, { name: UNLIMITED_PLAN }]]);
    for (const [name, limits] of Object.entries(config.plans)) plans.set(name, { name, ...limits });
    this.byName = plans;
    const unknown = planReferences(config).filter((name) => !plans.has(name));
    if (unknown.length > 0) throw new RangeError(`plans not defined: ${unknown.join(', ')}`);
  }

  /** Every plan, the built-in `unlimited` first. */
  get all(): readonly Plan[] {
    return [...this.byName.values()];
  }

  /** Whether any plan limits anything: when none does, enforcement is skipped entirely. */
  get limitsAnything(): boolean {
    return this.all.some(hasLimits);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The named plan; a name no longer defined (a plan removed from the configuration) falls back to the default. */
  get(name: string | undefined): Plan {
    return (name !== undefined ? this.byName.get(name) : undefined) ?? this.byName.get(this.config.defaultPlan)!;
  }

  /** The plan a principal is on: the one its credential names, else the admin plan (bootstrap key) or the default. */
  forPrincipal(p: { readonly plan?: string; readonly admin: boolean; readonly authMethod: string; readonly keyId?: string }): Plan {
    if (p.plan !== undefined && this.byName.has(p.plan)) return this.byName.get(p.plan)!;
    const fallback = p.authMethod === 'api_key' && p.admin ? this.config.adminPlan : this.config.defaultPlan;
    return this.byName.get(fallback)!;
  }

  /** The plan a stored key is on, as the authorizer resolves it for that key (a removed plan reads as the default). */
  forKey(record: { readonly plan?: string; readonly admin?: true }): Plan {
    return this.forPrincipal({ authMethod: 'api_key', admin: record.admin === true, ...(record.plan === undefined ? {} : { plan: record.plan }) });
  }

  /** A token's plan: by its client id, else by the first configured group it is in, else the default. */
  forToken(clientId: string | undefined, groups: readonly string[]): string {
    const byClient = clientId !== undefined && Object.hasOwn(this.config.tokens.clientIds, clientId) ? this.config.tokens.clientIds[clientId] : undefined;
    if (byClient !== undefined) return byClient;
    const byGroup = this.config.tokens.groups.find((entry) => groups.includes(entry.group));
    return byGroup ? byGroup.plan : this.config.defaultPlan;
  }
}

/** Every plan name a configuration refers to. */
export function planReferences(config: PlanConfig): string[] {
  return [config.defaultPlan, config.adminPlan, ...Object.values(config.tokens.clientIds), ...config.tokens.groups.map((entry) => entry.plan)];
}

export const hasLimits = (plan: PlanLimits): boolean => plan.rate !== undefined || plan.quota !== undefined;

/** The bucket size of a plan's rate: the burst, else the rate itself (at least one request). */
export const burstOf = (plan: PlanLimits): number => plan.burst ?? Math.max(1, Math.ceil(plan.rate ?? 1));

/** The fewest days a period can have: a daily quota is compared with a monthly one over the shortest month. */
const MIN_DAYS: Record<QuotaPeriod, number> = { day: 1, month: 28 };
/** The most days a period can have. */
const MAX_DAYS: Record<QuotaPeriod, number> = { day: 1, month: 31 };

/**
 * Whether `child` is no looser than `parent` in every dimension: what a caller on `parent` may put a key on. A limit
 * the parent lacks is infinite; a limit the child lacks (and the parent has) makes the child looser. Quotas of
 * different periods compare at their worst: a daily quota is within a monthly one only if 31 of its days fit.
 */
export function planWithin(child: PlanLimits, parent: PlanLimits): boolean {
  if (parent.rate !== undefined && (child.rate === undefined || child.rate > parent.rate)) return false;
  if (parent.rate !== undefined && burstOf(child) > burstOf(parent)) return false;
  if (parent.quota !== undefined) {
    if (child.quota === undefined) return false;
    // Over one month: a daily quota may be spent on up to 31 days; a monthly one allows no more than 28 daily ones do.
    const perMonth = (q: NonNullable<PlanLimits['quota']>, days: Record<QuotaPeriod, number>) => (q.period === 'day' ? q.limit * days.month : q.limit);
    if (child.quota.period === parent.quota.period ? child.quota.limit > parent.quota.limit : perMonth(child.quota, MAX_DAYS) > perMonth(parent.quota, MIN_DAYS)) return false;
  }
  return true;
}

/** The quota period `nowMs` falls in (UTC): an id for the counter, and its bounds. */
export interface PeriodWindow {
  /** `D2026-12-02` or `M2026-12`. */
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
}

export function periodWindow(period: QuotaPeriod, nowMs: number): PeriodWindow {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === 'day') {
    const startMs = Date.UTC(y, m, d.getUTCDate());
    return { id: `D${new Date(startMs).toISOString().slice(0, 10)}`, startMs, endMs: startMs + 86_400_000 };
  }
  const startMs = Date.UTC(y, m, 1);
  return { id: `M${new Date(startMs).toISOString().slice(0, 7)}`, startMs, endMs: Date.UTC(y, m + 1, 1) };
}

/**
 * The two usage identifier keys of a deployment (docs/plans.md): `open` is the one API key its usage plan knows;
 * `limited` names no key at all, so API Gateway answers INVALID_API_KEY (the plan-limit 429). Not secrets — clients
 * cannot send API keys (apiKeySource AUTHORIZER) — only stable per deployment, so a redeploy keeps the key.
 */
export function usageKeysFor(seed: string): { readonly open: string; readonly limited: string } {
  const part = (name: string) => createHash('sha256').update(`${seed}\u0000${name}`).digest('base64url').slice(0, 32);
  return { open: `gatehouse-open-${part('open')}`, limited: `gatehouse-limited-${part('limited')}` };
}

/** Seconds a period lasts at most (the `w` of a RateLimit-Policy quota entry). */
export const periodSeconds = (period: QuotaPeriod): number => MAX_DAYS[period] * 86_400;
