/**
 * `GET /v1/audit` (scope audit:read): audit events, newest first, in pages.
 *
 * Who sees what:
 * - Administrators (`principal.admin`: group `admins`, the bootstrap admin key) see every tenant's events, or one
 *   tenant's with `tenant=<tenant>`.
 * - Everyone else sees their own tenant's events only. Naming their own tenant is allowed (harmless); naming any
 *   other tenant is a 403 PERMISSION_DENIED rather than a silent fallback to their own events: a client that asked
 *   for tenant X must not be handed tenant Y's events as if they were X's, and the answer is the same whether X
 *   exists or not, so it reveals nothing about other tenants.
 * - A non-administrator whose tenant happens to be the system tenant (events with no known tenant: refusals of
 *   unknown keys, mode changes) is refused too: those events are for administrators only.
 */
import { SYSTEM_TENANT } from '../../core/audit.js';
import { PermissionError } from '../../core/errors.js';
import { createApiHandler, type Operation } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { auditQuerySchema, type AuditQueryParams } from './schemas.js';
import { httpOptions, type Services } from '../services.js';

export function createAuditHandler(services: Services) {
  const list: Operation<undefined, AuditQueryParams> = {
    query: auditQuerySchema,
    handle: async ({ principal, queryParams: q }) => {
      let tenant: string | undefined;
      if (principal.admin) {
        tenant = q.tenant;
      } else {
        if (q.tenant !== undefined && q.tenant !== principal.tenant) {
          throw new PermissionError("Only administrators may read another tenant's audit events.");
        }
        if (principal.tenant === SYSTEM_TENANT) throw new PermissionError('System audit events are for administrators only.');
        tenant = principal.tenant;
      }
      const page = await services.audit.query({
        ...(tenant === undefined ? {} : { tenant }),
        ...(q.from === undefined ? {} : { from: q.from }),
        ...(q.to === undefined ? {} : { to: q.to }),
        ...(q.type === undefined ? {} : { types: q.type }),
        limit: q.limit,
        ...(q.nextToken === undefined ? {} : { nextToken: q.nextToken }),
      });
      return json(200, page.nextToken === undefined ? { events: page.events } : { events: page.events, nextToken: page.nextToken });
    },
  };

  return createApiHandler(
    'audit',
    { 'GET /v1/audit': list },
    httpOptions(services),
  );
}

