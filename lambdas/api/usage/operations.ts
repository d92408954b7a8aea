/**
 * `GET /v1/usage` (scope usage:read): request count and last use per API key, for the caller's tenant only, with
 * each key's plan and, when the plan has a quota, the current period's use and what remains (docs/plans.md).
 * Only keys used at least once appear, ordered by key id; `keyId` narrows to one key (another tenant's key simply has no usage here).
 * Rows come in pages (`limit`, `nextToken`): a tenant's used keys are unbounded over time, a page is not.
 */
import { periodWindow } from '../../core/plans.js';
import { keySubject } from '../../core/quota-store.js';
import { createApiHandler, type Operation } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { usageQuerySchema, type UsageQueryParams } from './schemas.js';
import { httpOptions, type Services } from '../services.js';

export function createUsageHandler(services: Services) {
  const { plans } = services;
  const list: Operation<undefined, UsageQueryParams> = {
    query: usageQuerySchema,
    handle: async ({ principal, queryParams: q }) => {
      const page = await services.usage.page(principal.tenant, {
        limit: q.limit,
        ...(q.keyId === undefined ? {} : { keyId: q.keyId }),
        ...(q.nextToken === undefined ? {} : { nextToken: q.nextToken }),
      });
      const nowMs = services.now();
      // Two batched reads per 100 rows: the keys' plans, then the quota counters of the plans that have one.
      const records = await services.keys.getManyForTenant(page.usage.map((u) => u.keyId), principal.tenant);
      // A key that is gone (usage outlives keys) reads as the default plan.
      const planOf = (keyId: string) => plans.forKey(records.get(keyId) ?? {});
      const counters = page.usage.flatMap((u) => {
        const quota = planOf(u.keyId).quota;
        return quota ? [{ subject: keySubject(u.keyId), periodId: periodWindow(quota.period, nowMs).id }] : [];
      });
      const granted = counters.length > 0 ? await services.quotas.grantedMany(counters) : new Map<string, number>();
      const usage = page.usage.map(({ keyId, requests, lastUsedAt }) => {
        const plan = planOf(keyId);
        if (!plan.quota) return { keyId, requests, lastUsedAt, plan: plan.name };
        const window = periodWindow(plan.quota.period, nowMs);
        const used = Math.min(plan.quota.limit, granted.get(`${keySubject(keyId)}|${window.id}`) ?? 0);
        return {
          keyId,
          requests,
          lastUsedAt,
          plan: plan.name,
          quota: { limit: plan.quota.limit, period: plan.quota.period, used, remaining: plan.quota.limit - used, resetsAt: new Date(window.endMs).toISOString() },
        };
      });
      return json(200, page.nextToken === undefined ? { usage } : { usage, nextToken: page.nextToken });
    },
  };

  return createApiHandler(
    'usage',
    { 'GET /v1/usage': list },
    httpOptions(services),
  );
}
