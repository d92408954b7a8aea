/** The `usage` handler group: request counts per key. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createUsageHandler } from './operations.js';
import { usageOpenApi } from './schemas.js';

export const group = defineHandlerGroup({
  name: 'usage',
  create: createUsageHandler,
  docs: usageOpenApi,
  // a tenant's usage rows.
  access: { table: ['GetItem', 'Query'] },
});

export const handler = lambdaEntry(group);
