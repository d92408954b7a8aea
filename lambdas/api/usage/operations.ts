/**
 * `GET /v1/usage` (scope usage:read): request count and last use per API key, for the caller's tenant only.
 * Only keys used at least once appear, ordered by key id; `keyId` narrows to one key (another tenant's key simply has no usage here).
 * Rows come in pages (`limit`, `nextToken`): a tenant's used keys are unbounded over time, a page is not.
 */
import { createApiHandler, type Operation } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { usageQuerySchema, type UsageQueryParams } from './schemas.js';
import { httpOptions, type Services } from '../services.js';

export function createUsageHandler(services: Services) {
  const list: Operation<undefined, UsageQueryParams> = {
    query: usageQuerySchema,
    handle: async ({ principal, queryParams: q }) => {
      const page = await services.usage.page(principal.tenant, {
        limit: q.limit,
        ...(q.keyId === undefined ? {} : { keyId: q.keyId }),
        ...(q.nextToken === undefined ? {} : { nextToken: q.nextToken }),
      });
      const usage = page.usage.map(({ keyId, requests, lastUsedAt }) => ({ keyId, requests, lastUsedAt }));
      return json(200, page.nextToken === undefined ? { usage } : { usage, nextToken: page.nextToken });
    },
  };

  return createApiHandler(
    'usage',
    { 'GET /v1/usage': list },
    httpOptions(services),
  );
}

