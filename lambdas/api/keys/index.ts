/** The `keys` handler group: create, list, get, revoke and rotate API keys. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createKeysHandler } from './operations.js';
import { keysOpenApi } from './schemas.js';

export const group = defineHandlerGroup({
  name: 'keys',
  create: createKeysHandler,
  docs: keysOpenApi,
  // Get/create/revoke/rotate keys (Get/Put/Update), a tenant's keys (Query on gsi1), one audit event per change
  // (Put); hashing a new key needs the pepper.
  access: { table: ['GetItem', 'PutItem', 'UpdateItem', 'Query'], index: ['Query'], pepper: true },
});

export const handler = lambdaEntry(group);
