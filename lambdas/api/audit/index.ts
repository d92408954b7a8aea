/** The `audit` handler group: the audit trail. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createAuditHandler } from './operations.js';
import { auditOpenApi } from './schemas.js';

export const group = defineHandlerGroup({
  name: 'audit',
  create: createAuditHandler,
  docs: auditOpenApi,
  // a tenant's events (Query on the table), administrators' cross-tenant days (Query on gsi1).
  access: { table: ['Query'], index: ['Query'] },
});

export const handler = lambdaEntry(group);
