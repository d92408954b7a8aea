/** The `verify` handler group: key verification for other services (SigV4 only). */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createVerifyHandler } from './operations.js';
import { verifyBody, verifyView } from './schemas.js';

export const group = defineHandlerGroup({
  name: 'verify',
  create: createVerifyHandler,
  docs: {
    'POST /v1/verify': {
      body: verifyBody,
      response: verifyView,
      responses: { 200: 'Whether the key is valid now; no reason is given when it is not' },
    },
  },
  // one GetItem by key id, then the keyed hash.
  access: { table: ['GetItem'], pepper: true },
});

export const handler = lambdaEntry(group);
