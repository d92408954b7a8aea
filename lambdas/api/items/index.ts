/** The `items` handler group: the sample resource, a tenant's items. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createItemsHandler } from './operations.js';
import { itemsOpenApi } from './schemas.js';

export const group = defineHandlerGroup({
  name: 'items',
  create: createItemsHandler,
  docs: itemsOpenApi,
  // a tenant's items: one partition per tenant.
  access: { table: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'] },
});

export const handler = lambdaEntry(group);
